"""Alembic environment: runs the revisions, and compares the models with the database for new ones.

Running migrations (`decoy init`, `alembic upgrade`, `alembic downgrade`) imports nothing of the
application: every revision holds its own SQL and column types, frozen as written, so that no later
change to the code can alter what an old revision does. The models (SQLModel.metadata) are loaded only
when Alembic compares them with the database, to write a new revision (`alembic revision
--autogenerate`) or to report pending changes (`alembic check`). SQLite uses batch mode.
"""

from typing import Any

import sqlalchemy as sa
from alembic import context

config = context.config


def comparing_models() -> bool:
    """Whether Alembic compares the models with the database (autogenerate) rather than migrating it.

    Only the command line tells: its options carry ``autogenerate`` (``alembic revision --autogenerate``)
    or name the ``check`` command. A program that calls alembic.command passes the same options as
    ``Config(cmd_opts=argparse.Namespace(autogenerate=True))``; `decoy init` passes none.
    """
    options = config.cmd_opts
    if options is None:
        return False
    command = getattr(options, "cmd", None)
    return bool(getattr(options, "autogenerate", False)) or (
        command is not None and getattr(command[0], "__name__", "") == "check"
    )


def load_target_metadata() -> sa.MetaData | None:
    """The models' metadata when comparing; None (nothing of the application imported) when migrating."""
    if not comparing_models():
        return None
    from sqlmodel import SQLModel

    import decoy.models  # noqa: F401  (registers every table on the metadata)

    return SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render a column type as the SQLAlchemy type the database stores, never as an application class.

    A TypeDecorator (such as decoy.db.UTCDateTime, whose conversion to UTC happens in Python) is written
    as its stored type, and SQLModel's AutoString as sa.String, so that a new revision is frozen from the
    start: it names no class that a later change of the code could alter.
    """
    if type_ != "type":
        return False
    stored = obj.impl_instance if isinstance(obj, sa.types.TypeDecorator) else obj
    if isinstance(stored, sa.String) and not type(stored).__module__.startswith("sqlalchemy."):
        stored = sa.String(length=stored.length, collation=stored.collation)
    if stored is obj:
        return False
    if type(stored).__module__ != "sqlalchemy.sql.sqltypes":
        raise TypeError(f"write the stored type of {obj!r} by hand (migrations/env.py renders generic types)")
    return f"sa.{stored!r}"


def run_migrations_online() -> None:
    """Run the migrations on the application's engine (or one made from the URL)."""
    engine = config.attributes.get("engine") or sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=load_target_metadata(),
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
