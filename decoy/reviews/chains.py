"""Every authorization's supersede chain, loaded in one query and resolved in memory (scheduler passes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ..models import Authorization, AuthorizationWithdrawal, Operation, OperationStatus


@dataclass(frozen=True)
class Terms:
    """What the scheduler needs of one authorization."""

    id: int
    operation_id: int
    reference: str
    kind: str
    valid_from: datetime
    valid_until: datetime
    review_interval_days: int
    written_order_due: datetime | None
    supersedes_id: int | None
    registered_at: datetime
    #: When the order was withdrawn (None when it never was).
    withdrawn_at: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in the order's period and before its withdrawal."""
        if self.withdrawn_at is not None and moment >= self.withdrawn_at:
            return False
        return self.valid_from <= moment < self.valid_until


class Chains:
    """The authorizations of open operations, with their supersede links."""

    def __init__(self, terms: list[Terms]) -> None:
        self.by_id = {item.id: item for item in terms}
        self.successor = {item.supersedes_id: item.id for item in terms if item.supersedes_id is not None}

    def current(self) -> list[Terms]:
        """The newest authorization of every chain (those no other authorization supersedes)."""
        return [item for item in self.by_id.values() if item.id not in self.successor]

    def members(self, current_id: int) -> list[Terms]:
        """The chain ending at ``current_id``, oldest first."""
        links: list[Terms] = []
        item: Terms | None = self.by_id.get(current_id)
        while item is not None and len(links) < 1000:
            links.append(item)
            item = self.by_id.get(item.supersedes_id) if item.supersedes_id is not None else None
        return list(reversed(links))

    def newest_of(self, authorization_id: int) -> int:
        """The newest authorization of the chain ``authorization_id`` belongs to."""
        current, steps = authorization_id, 0
        while current in self.successor and steps < 1000:
            current, steps = self.successor[current], steps + 1
        return current

    def is_superseded(self, authorization_id: int) -> bool:
        """Whether a newer authorization replaced this one."""
        return authorization_id in self.successor


def load_chains(session: Session, operation_id: int | None = None) -> Chains:
    """Every authorization of every operation that is not closed (or of the one, a chain never leaves its
    operation)."""
    open_operations = select(Operation.id).where(Operation.status != OperationStatus.closed.value)
    if operation_id is not None:
        open_operations = open_operations.where(Operation.id == operation_id)
    rows = session.exec(
        select(
            Authorization.id,
            Authorization.operation_id,
            Authorization.reference,
            Authorization.kind,
            Authorization.valid_from,
            Authorization.valid_until,
            Authorization.review_interval_days,
            Authorization.written_order_due,
            Authorization.supersedes_id,
            Authorization.registered_at,
            AuthorizationWithdrawal.effective_at,
        )
        .outerjoin(
            AuthorizationWithdrawal,
            col(AuthorizationWithdrawal.authorization_id) == col(Authorization.id),
        )
        .where(col(Authorization.operation_id).in_(open_operations))
    ).all()
    return Chains([Terms(*row) for row in rows])


def superseded_ids(session: Session) -> set[int]:
    """The ids of every authorization a newer one supersedes."""
    column = col(Authorization.supersedes_id)
    rows = session.exec(select(column).where(column.is_not(None))).all()
    return {int(row) for row in rows if row is not None}


def insert_new(session: Session, model: type, rows: list[dict], returning: str = "key") -> list[tuple]:
    """Insert ``rows``, skipping those whose unique key exists; return (id, ``returning``) of the new ones.

    ``INSERT … ON CONFLICT DO NOTHING`` makes a second scheduler (or a retried pass) harmless: the
    database, not a prior read, decides which rows are new.
    """
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        statement = insert(table)
    # One cached statement executed for many rows (SQLAlchemy batches them as INSERT … VALUES … RETURNING).
    result = session.execute(statement.returning(table.c.id, table.c[returning]), rows)
    return [tuple(row) for row in result.all()]
