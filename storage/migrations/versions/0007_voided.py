"""voided: a ticket staff closed as no request (撤销)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 11:40:00

the classifier files chatter now and then; a grid worker or secretary closes it with 撤销 N, and the KPIs leave
such tickets out
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voided', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('voided')
