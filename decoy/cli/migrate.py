"""Schema migrations with Alembic, run by `decoy init`."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from flask import Flask

from ..config import resource_dir


def alembic_config(app: Flask) -> Config:
    """An Alembic configuration bound to the application's engine."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    config.attributes["engine"] = app.extensions["decoy.engine"]
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    command.upgrade(alembic_config(app), revision)
