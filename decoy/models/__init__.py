"""SQLModel tables, one module per aggregate; importing this package registers them all."""

from sqlmodel import SQLModel

from audit.store import define_tables

from .accounts import ApiToken, LoginAttempt, RecoveryCode, Role, User, UserRole
from .blobs import EvidenceBlob, EvidenceBlobChunk, EvidenceBlobRelease
from .capture import (
    CaptureSession,
    CaptureSessionEnd,
    ExportReconciliation,
    MessageImport,
    MessageImportResult,
)
from .categories import (
    CATEGORIES,
    DEFAULT_CATEGORY,
    NOTIFICATION_KINDS,
    ContactCategoryChange,
    SuspectNotification,
)
from .disclosure import DisclosureDecision, JournalNote, Redaction, SignedReport, VerbalisantAssignment
from .evidence import FLAGS, Attachment, Contact, Message
from .initiative import Annotation, ContactAssessment, SuggestionDismissal
from .integrity import CheckpointCosignature, CheckpointTimestamp, VerificationRun, WitnessRefusal
from .operations import (
    REGISTRABLE_KINDS,
    Authorization,
    AuthorizationDocument,
    AuthorizationKind,
    AuthorizationOfficer,
    Operation,
    OperationMember,
    OperationStatus,
    Profile,
    ProfileStatus,
    ProfileTransition,
)
from .orders import (
    TLP_LABELS,
    AuthorizationKindChange,
    AuthorizationWithdrawal,
    ClosureAction,
    EndReport,
    EndReportDelivery,
    Lead,
    OperationClosure,
)
from .retention import (
    CASE_OUTCOMES,
    ContactOutcome,
    Disposal,
    DisposalApproval,
    DisposalTombstone,
    LegalHold,
    LegalHoldLift,
)
from .reviews import (
    Decision,
    EnforcementAction,
    Notification,
    OutboxEmail,
    Review,
    ReviewDecision,
    ReviewKind,
    ReviewStatus,
)
from .safeguarding import (
    ACTION_KINDS,
    OPENING_CATEGORIES,
    PROTECTIVE_ACTIONS,
    SAFEGUARDING_TRIGGERS,
    SafeguardingAction,
    SafeguardingCase,
    SafeguardingClosure,
    SensitiveOpening,
)

AUDIT_TABLES = define_tables(SQLModel.metadata)

#: The largest row id (a 32-bit INTEGER primary key on PostgreSQL): a larger one names no row.
MAX_ID = 2_147_483_647

__all__ = [
    "AUDIT_TABLES", "Annotation", "DisclosureDecision", "JournalNote", "Redaction", "SignedReport",
    "VerbalisantAssignment", "ContactAssessment", "SuggestionDismissal",
    "FLAGS", "MAX_ID", "ApiToken", "Attachment", "Authorization", "AuthorizationDocument",
    "AuthorizationKind", "AuthorizationOfficer", "CaptureSession", "CaptureSessionEnd", "Contact",
    "ExportReconciliation", "MessageImport", "MessageImportResult", "EvidenceBlob", "EvidenceBlobChunk",
    "EvidenceBlobRelease", "LoginAttempt", "Message", "Operation",
    "OperationMember", "OperationStatus", "Profile", "ProfileStatus", "ProfileTransition", "RecoveryCode",
    "Role", "User", "UserRole", "VerificationRun", "CheckpointCosignature", "CheckpointTimestamp",
    "WitnessRefusal",
    "Decision", "EnforcementAction", "Notification", "OutboxEmail", "Review", "ReviewDecision", "ReviewKind",
    "ReviewStatus", "AuthorizationKindChange", "AuthorizationWithdrawal", "ClosureAction", "EndReport",
    "EndReportDelivery", "Lead", "OperationClosure", "REGISTRABLE_KINDS", "TLP_LABELS",
    "CATEGORIES", "DEFAULT_CATEGORY", "NOTIFICATION_KINDS", "ContactCategoryChange", "SuspectNotification",
    "ACTION_KINDS", "OPENING_CATEGORIES", "PROTECTIVE_ACTIONS", "SAFEGUARDING_TRIGGERS", "SafeguardingAction",
    "SafeguardingCase", "SafeguardingClosure", "SensitiveOpening",
    "CASE_OUTCOMES", "ContactOutcome", "LegalHold", "LegalHoldLift", "Disposal", "DisposalApproval",
    "DisposalTombstone",
]
