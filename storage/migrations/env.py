"""Alembic environment: storage.schema hands over an open connection; the target is the models' metadata."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from storage.models import AwareDateTime


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations name plain SQLAlchemy types, so they never import the models they were generated from."""
    if type_ == "type" and isinstance(obj, AwareDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through storage.schema (`mulin db upgrade`), which passes a connection")
# batch mode: SQLite cannot ALTER most things, and batch operations run as plain ALTERs on PostgreSQL
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True,
                  render_item=render_item, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
