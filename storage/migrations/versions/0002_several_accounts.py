"""several bot accounts: inbox fingerprint and owner, outbox account and claimed_by, node heartbeats

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 20:16:14.314157
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('node',
    sa.Column('account', sa.String(), nullable=False),
    sa.Column('instance', sa.String(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account')
    )
    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(), nullable=True))
        batch_op.create_index(batch_op.f('ix_incoming_message_owner'), ['owner'], unique=False)
        # named as PostgreSQL names the unique=True that create_all makes, so built and migrated databases agree
        batch_op.create_unique_constraint('incoming_message_fingerprint_key', ['fingerprint'])

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_account'), ['account'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_account'))
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('account')

    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.drop_constraint('incoming_message_fingerprint_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_incoming_message_owner'))
        batch_op.drop_column('owner')
        batch_op.drop_column('fingerprint')

    op.drop_table('node')
