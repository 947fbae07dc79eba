"""A contact's category (who the counterpart turned out to be) and, for suspects, the register of their
notification of the special investigative power used against them (art. 126bb Sv); both append-only."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime

__all__ = [
    "CATEGORIES", "DEFAULT_CATEGORY", "NOTIFICATION_KINDS", "ContactCategoryChange", "SuspectNotification",
]

#: The categories of a contact (SPEC "Contact category"); a contact is ``unknown`` until a change says else.
CATEGORIES = ("unknown", "suspect", "non_suspect", "real_minor", "presumed_victim")
DEFAULT_CATEGORY = "unknown"
#: What a notification record says: the person was notified, or notification is postponed (until when, why).
NOTIFICATION_KINDS = ("notified", "postponed")


class ContactCategoryChange(SQLModel, table=True):
    """One change of a contact's category, with its reason; the latest is the contact's category."""

    __tablename__ = "contact_category_change"
    __table_args__ = (Index("ix_contact_category_change_contact", "contact_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    from_category: str = Field(max_length=20)
    category: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    changed_by: int = Field(foreign_key="user_account.id")
    changed_at: datetime = Field(sa_type=UTCDateTime)


class SuspectNotification(SQLModel, table=True):
    """That a suspect was notified of the method (when, how), or that notification is postponed (until
    when, why): art. 126bb Sv. The latest record of a contact is its state."""

    __tablename__ = "suspect_notification"
    __table_args__ = (Index("ix_suspect_notification_contact", "contact_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    #: ``notified`` or ``postponed``.
    kind: str = Field(max_length=12)
    #: When the person was notified (``notified``), or until when notification is postponed.
    at: datetime = Field(sa_type=UTCDateTime)
    #: How the person was notified, or why notification is postponed.
    note: str = Field(sa_column=Column(Text, nullable=False))
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
