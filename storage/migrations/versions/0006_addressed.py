"""addressed: an incoming message that @-mentioned the bot account that received it, and whom it mentioned

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:00:00

a resident who @-mentions the bot asks it: the message is filed on a problem the rules see, or answered with help;
kept on the row so a retried message is judged as it was first
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('addressed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('mentions', sa.String(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.drop_column('mentions')
        batch_op.drop_column('addressed')
