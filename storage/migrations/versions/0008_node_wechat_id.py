"""node.wechat_id: each bot account's own WeChat id, so every account's process knows a mention of any of them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:35:00

in a group served by several accounts, the copy of a message stored first is the one handled; a resident's @ of the
other account is heard through this column
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('node', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wechat_id', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('node', schema=None) as batch_op:
        batch_op.drop_column('wechat_id')
