"""issue pairs are indexed by each side's issue id

Every webhook's notice finds its pair by the issue id of one side (the queue key), and so do
the lease's same-pair check and the applier; the unique constraints start with the config
pair id, so without these indexes each of those lookups scanned the whole table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:05:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jb_issue_pairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jb_issue_pairs_server_issue_id"), ["server_issue_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_jb_issue_pairs_cloud_issue_id"), ["cloud_issue_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("jb_issue_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jb_issue_pairs_cloud_issue_id"))
        batch_op.drop_index(batch_op.f("ix_jb_issue_pairs_server_issue_id"))
