"""label_review: a person's signed labels for a staff correction, read against classifier/LABELS.md

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00

the console's 更正审核 page writes one row per corrected ticket; `mulin export corrections --reviewed` writes them as
labelled lines that classifier.train accepts
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('label_review',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('is_request', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('reviewer_id', sa.String(), nullable=False),
    sa.Column('reviewer_name', sa.String(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('ticket_id')
    )


def downgrade() -> None:
    op.drop_table('label_review')
