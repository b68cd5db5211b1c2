"""privacy: retention marks, erase requests, pseudonym salt, link and scan health on node

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 15:39:43.798794

chatter and sent texts are removed after config privacy: windows, closed tickets pseudonymised; the node row
also carries the gateway link and the last due-scan, for `mulin status`
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erase_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by', sa.String(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('erase_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erase_request_contact_id'), ['contact_id'], unique=False)

    op.create_table('setting',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('value', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_incoming_message_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('node', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_up', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('link_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reconnects', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('scan_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('scan_seconds', sa.Float(), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_pseudonymised_at'), ['pseudonymised_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_pseudonymised_at'))
        batch_op.drop_column('pseudonymised_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('purged_at')

    with op.batch_alter_table('node', schema=None) as batch_op:
        batch_op.drop_column('scan_seconds')
        batch_op.drop_column('scan_at')
        batch_op.drop_column('reconnects')
        batch_op.drop_column('link_since')
        batch_op.drop_column('link_up')

    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incoming_message_received_at'))
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('purged_at')

    op.drop_table('setting')
    with op.batch_alter_table('erase_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erase_request_contact_id'))

    op.drop_table('erase_request')
