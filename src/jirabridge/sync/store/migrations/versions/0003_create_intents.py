"""create intents: a mirror create is recorded before it is sent, until its pair is

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 07:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jb_create_intents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_id", sa.String(length=100), nullable=False),
        sa.Column("source_side", sa.String(length=10), nullable=False),
        sa.Column("source_site", sa.String(length=100), nullable=False),
        sa.Column("source_issue_id", sa.String(length=50), nullable=False),
        sa.Column("source_key", sa.String(length=50), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_create_intents")),
        sa.UniqueConstraint(
            "pair_id",
            "source_side",
            "source_issue_id",
            name=op.f("uq_jb_create_intents_pair_id_source_side_source_issue_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("jb_create_intents")
