"""attachment pairs remember the Cloud attachment's media file id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 06:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jb_attachment_pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cloud_media_id", sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jb_attachment_pairs", schema=None) as batch_op:
        batch_op.drop_column("cloud_media_id")
