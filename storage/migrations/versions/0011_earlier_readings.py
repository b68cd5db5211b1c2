"""earlier readings: a re-signed correction or 抽查 reading keeps the one it replaced

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:10:00

label_review.earlier and message_review.earlier hold, as JSON, the readings a later one with other labels replaced
(storage.readings); the pages show them under the signed labels
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('label_review', 'message_review'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('earlier', sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ('message_review', 'label_review'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('earlier')
