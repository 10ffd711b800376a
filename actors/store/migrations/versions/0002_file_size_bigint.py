"""files.size as a 64-bit integer: PostgreSQL's INTEGER stops at 2 GiB - 1, below MAX_UPLOAD_SIZE_MB's default.

SQLite's INTEGER is 64-bit already, so there the table is left alone (a batch ALTER would copy it whole).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("files", "size", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("files", "size", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
