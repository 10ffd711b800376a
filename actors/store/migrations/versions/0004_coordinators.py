"""Durable batch and pipeline coordinators and shared rate-limit windows, for several nodes on one PostgreSQL
(unused on SQLite).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coordinators",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("node_id", sa.String(80), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_coordinators_state", "coordinators", ["state", "lease_until"])
    op.create_table(
        "coordinator_items",
        sa.Column("coordinator_id", sa.String(36), primary_key=True),
        sa.Column("idx", sa.Integer(), primary_key=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.Float(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rate_windows_start", "rate_windows", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_rate_windows_start", table_name="rate_windows")
    op.drop_table("rate_windows")
    op.drop_table("coordinator_items")
    op.drop_index("ix_coordinators_state", table_name="coordinators")
    op.drop_table("coordinators")
