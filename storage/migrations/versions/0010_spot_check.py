"""spot_check: group messages the bot did not file, drawn for a person to read (抽查), and their signed labels

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:00:00

incoming_message.spot_check marks a drawn message (random | near); message_review holds the labels a secretary signed
on the console's 抽查 page, with the masked text, for training and for the estimate of what the bot misses
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incoming_message') as batch:
        batch.add_column(sa.Column('spot_check', sa.String(), nullable=True))
    op.create_table('message_review',
    sa.Column('message_row_id', sa.Integer(), nullable=False),
    sa.Column('sample', sa.String(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('is_request', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('reviewer_id', sa.String(), nullable=False),
    sa.Column('reviewer_name', sa.String(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_row_id'], ['incoming_message.id'], ),
    sa.PrimaryKeyConstraint('message_row_id')
    )


def downgrade() -> None:
    op.drop_table('message_review')
    with op.batch_alter_table('incoming_message') as batch:
        batch.drop_column('spot_check')
