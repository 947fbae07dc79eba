"""Alembic environment: the target is SQLModel.metadata; SQLite uses batch mode."""

from typing import Any

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import decoy.models  # noqa: F401  (registers every table on the metadata)
from decoy.db import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render Decoy's own column types by their import path."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import decoy.db")
        return "decoy.db.UTCDateTime()"
    return False


def run_migrations_online() -> None:
    """Run the migrations on the application's engine (or one made from the URL)."""
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
