"""initial state store

Revision ID: 0001
Revises:
Create Date: 2026-11-24 03:31:28.096288
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "jb_audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_audit_log")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("jb_audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jb_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "jb_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("issue_id", sa.String(length=50), nullable=False),
        sa.Column("issue_key", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("error_branch", sa.String(length=50), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_dead_letters")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("jb_dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jb_dead_letters_key"), ["key"], unique=False)

    op.create_table(
        "jb_issue_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_id", sa.String(length=100), nullable=False),
        sa.Column("server_issue_id", sa.String(length=50), nullable=False),
        sa.Column("server_key", sa.String(length=50), nullable=False),
        sa.Column("cloud_issue_id", sa.String(length=50), nullable=False),
        sa.Column("cloud_key", sa.String(length=50), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_issue_pairs")),
        sa.UniqueConstraint(
            "pair_id", "cloud_issue_id", name=op.f("uq_jb_issue_pairs_pair_id_cloud_issue_id")
        ),
        sa.UniqueConstraint(
            "pair_id", "server_issue_id", name=op.f("uq_jb_issue_pairs_pair_id_server_issue_id")
        ),
    )
    op.create_table(
        "jb_poll_cursors",
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("position", sa.DateTime(), nullable=True),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site", "scope", name=op.f("pk_jb_poll_cursors")),
    )
    op.create_table(
        "jb_queue_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum("queued", "leased", name="jobstate", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("issue_id", sa.String(length=50), nullable=False),
        sa.Column("issue_key", sa.String(length=50), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_queue_jobs")),
        sa.UniqueConstraint("key", "state", name=op.f("uq_jb_queue_jobs_key_state")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("jb_queue_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jb_queue_jobs_state_available", ["state", "available_at"], unique=False
        )

    op.create_table(
        "jb_sites",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("flavour", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_jb_sites")),
    )
    op.create_table(
        "jb_webhook_seen",
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site", "identifier", name=op.f("pk_jb_webhook_seen")),
    )
    with op.batch_alter_table("jb_webhook_seen", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jb_webhook_seen_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "jb_attachment_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_pair_id", sa.Integer(), nullable=False),
        sa.Column("server_attachment_id", sa.String(length=50), nullable=False),
        sa.Column("cloud_attachment_id", sa.String(length=50), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_pair_id"],
            ["jb_issue_pairs.id"],
            name=op.f("fk_jb_attachment_pairs_issue_pair_id_jb_issue_pairs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_attachment_pairs")),
        sa.UniqueConstraint(
            "issue_pair_id",
            "cloud_attachment_id",
            name=op.f("uq_jb_attachment_pairs_issue_pair_id_cloud_attachment_id"),
        ),
        sa.UniqueConstraint(
            "issue_pair_id",
            "server_attachment_id",
            name=op.f("uq_jb_attachment_pairs_issue_pair_id_server_attachment_id"),
        ),
    )
    op.create_table(
        "jb_comment_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_pair_id", sa.Integer(), nullable=False),
        sa.Column("server_comment_id", sa.String(length=50), nullable=False),
        sa.Column("cloud_comment_id", sa.String(length=50), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("server_hash", sa.String(length=64), nullable=False),
        sa.Column("cloud_hash", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_pair_id"],
            ["jb_issue_pairs.id"],
            name=op.f("fk_jb_comment_pairs_issue_pair_id_jb_issue_pairs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_comment_pairs")),
        sa.UniqueConstraint(
            "issue_pair_id",
            "cloud_comment_id",
            name=op.f("uq_jb_comment_pairs_issue_pair_id_cloud_comment_id"),
        ),
        sa.UniqueConstraint(
            "issue_pair_id",
            "server_comment_id",
            name=op.f("uq_jb_comment_pairs_issue_pair_id_server_comment_id"),
        ),
    )
    op.create_table(
        "jb_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_pair_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("server_value", sa.JSON(), nullable=False),
        sa.Column("cloud_value", sa.JSON(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("winner", sa.String(length=10), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_pair_id"],
            ["jb_issue_pairs.id"],
            name=op.f("fk_jb_conflicts_issue_pair_id_jb_issue_pairs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_conflicts")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "jb_link_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_pair_id", sa.Integer(), nullable=False),
        sa.Column("server_link_id", sa.String(length=50), nullable=False),
        sa.Column("cloud_link_id", sa.String(length=50), nullable=False),
        sa.Column("link_type", sa.String(length=100), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_pair_id"],
            ["jb_issue_pairs.id"],
            name=op.f("fk_jb_link_pairs_issue_pair_id_jb_issue_pairs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_link_pairs")),
        sa.UniqueConstraint(
            "issue_pair_id",
            "cloud_link_id",
            name=op.f("uq_jb_link_pairs_issue_pair_id_cloud_link_id"),
        ),
        sa.UniqueConstraint(
            "issue_pair_id",
            "server_link_id",
            name=op.f("uq_jb_link_pairs_issue_pair_id_server_link_id"),
        ),
    )
    op.create_table(
        "jb_queue_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jb_queue_jobs.id"],
            name=op.f("fk_jb_queue_notices_job_id_jb_queue_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_queue_notices")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("jb_queue_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jb_queue_notices_job_id"), ["job_id"], unique=False)

    op.create_table(
        "jb_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_pair_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("field_hashes", sa.JSON(), nullable=False),
        sa.Column("issue_updated", sa.DateTime(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_pair_id"],
            ["jb_issue_pairs.id"],
            name=op.f("fk_jb_snapshots_issue_pair_id_jb_issue_pairs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jb_snapshots")),
        sa.UniqueConstraint(
            "issue_pair_id", "side", name=op.f("uq_jb_snapshots_issue_pair_id_side")
        ),
    )


def downgrade() -> None:

    op.drop_table("jb_snapshots")
    with op.batch_alter_table("jb_queue_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jb_queue_notices_job_id"))

    op.drop_table("jb_queue_notices")
    op.drop_table("jb_link_pairs")
    op.drop_table("jb_conflicts")
    op.drop_table("jb_comment_pairs")
    op.drop_table("jb_attachment_pairs")
    with op.batch_alter_table("jb_webhook_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jb_webhook_seen_expires_at"))

    op.drop_table("jb_webhook_seen")
    op.drop_table("jb_sites")
    with op.batch_alter_table("jb_queue_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jb_queue_jobs_state_available")

    op.drop_table("jb_queue_jobs")
    op.drop_table("jb_poll_cursors")
    op.drop_table("jb_issue_pairs")
    with op.batch_alter_table("jb_dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jb_dead_letters_key"))

    op.drop_table("jb_dead_letters")
    with op.batch_alter_table("jb_audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jb_audit_log_at"))

    op.drop_table("jb_audit_log")
