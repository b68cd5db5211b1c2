"""baseline: the schema before migrations (tables, indexes and unique keys as create_all made them)

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 19:53:48.188785
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bind_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bind_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bind_attempt_contact_id'), ['contact_id'], unique=False)

    op.create_table('bind_code',
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('staff_id', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_by', sa.String(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('bind_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bind_code_staff_id'), ['staff_id'], unique=False)

    op.create_table('incoming_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(), nullable=False),
    sa.Column('room_id', sa.String(), nullable=True),
    sa.Column('room_topic', sa.String(), nullable=True),
    sa.Column('sender_id', sa.String(), nullable=False),
    sa.Column('sender_name', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('RECEIVED', 'PROCESSED', 'FAILED', 'PARKED', name='messagestate'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_message_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_message_state'), ['state'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('target', sa.String(), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_period_end'), ['period_end'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(), nullable=True),
    sa.Column('to_id', sa.String(), nullable=True),
    sa.Column('mentions', sa.String(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('image_b64', sa.Text(), nullable=True),
    sa.Column('image_name', sa.String(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('in_reply_to', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('PENDING', 'SENDING', 'SENT', 'FAILED', 'HELD', 'SUMMARISED', name='outboxstate'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('gateway_message_id', sa.String(), nullable=True),
    sa.Column('resent', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_to_id'), ['to_id'], unique=False)

    op.create_table('staff_binding',
    sa.Column('staff_id', sa.String(), nullable=False),
    sa.Column('wechat_id', sa.String(), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('staff_id'),
    sa.UniqueConstraint('wechat_id')
    )
    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('NEW', 'ASSIGNED', 'ACCEPTED', 'RESOLVED', 'CLOSED', 'RETURNED', name='ticketstatus'), nullable=False),
    sa.Column('category', sa.String(), nullable=False),
    sa.Column('category_name', sa.String(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('urgent_reason', sa.String(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('building', sa.String(), nullable=True),
    sa.Column('unit', sa.String(), nullable=True),
    sa.Column('room_no', sa.String(), nullable=True),
    sa.Column('location_raw', sa.String(), nullable=True),
    sa.Column('keywords', sa.String(), nullable=False),
    sa.Column('grid_id', sa.String(), nullable=True),
    sa.Column('assignee_staff_id', sa.String(), nullable=True),
    sa.Column('reporter_id', sa.String(), nullable=False),
    sa.Column('reporter_name', sa.String(), nullable=False),
    sa.Column('room_id', sa.String(), nullable=True),
    sa.Column('room_topic', sa.String(), nullable=True),
    sa.Column('source_message_id', sa.String(), nullable=False),
    sa.Column('resolution_note', sa.String(), nullable=True),
    sa.Column('rating', sa.String(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('transfer_count', sa.Integer(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('follower_count', sa.Integer(), nullable=False),
    sa.Column('place_asked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('followup_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accept_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_message_id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_assignee_staff_id'), ['assignee_staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_next_escalation_at'), ['next_escalation_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_remind_at'), ['remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_status'), ['status'], unique=False)

    op.create_table('ticket_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('actor_id', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('from_status', sa.String(), nullable=True),
    sa.Column('to_status', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_event_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_follower',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(), nullable=False),
    sa.Column('room_id', sa.String(), nullable=True),
    sa.Column('message_id', sa.String(), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('ticket_id', 'contact_id')
    )


def downgrade() -> None:
    op.drop_table('ticket_follower')
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_event_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_event_at'))

    op.drop_table('ticket_event')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_status'))
        batch_op.drop_index(batch_op.f('ix_ticket_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_remind_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_next_escalation_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_grid_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_due_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_created_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_category'))
        batch_op.drop_index(batch_op.f('ix_ticket_assignee_staff_id'))

    op.drop_table('ticket')
    op.drop_table('staff_binding')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_to_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_state'))
        batch_op.drop_index(batch_op.f('ix_outbox_sent_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_room_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_period_end'))
        batch_op.drop_index(batch_op.f('ix_notice_kind'))

    op.drop_table('notice')
    with op.batch_alter_table('incoming_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incoming_message_state'))
        batch_op.drop_index(batch_op.f('ix_incoming_message_sender_id'))

    op.drop_table('incoming_message')
    with op.batch_alter_table('bind_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bind_code_staff_id'))

    op.drop_table('bind_code')
    with op.batch_alter_table('bind_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bind_attempt_contact_id'))

    op.drop_table('bind_attempt')
    for name in ('ticketstatus', 'outboxstate', 'messagestate'):  # PostgreSQL keeps enum types after drop_table
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
