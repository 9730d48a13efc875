"""retention: case closures, and when a job, a letter or a print batch was purged

Revision ID: 0008
Revises: 0007

Nothing is purged by the migration: every existing row gets NULL (not purged) and no case
is closed until upstream or an operator closes it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PURGED = ("jobs", "letters", "print_batches")


def upgrade() -> None:
    op.create_table(
        "case_closures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.String(length=64), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_case_closures_standing", "case_closures", ["reference", "reopened_at"], unique=False
    )
    for table in _PURGED:
        op.add_column(table, sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in reversed(_PURGED):
        with op.batch_alter_table(table) as batch:  # SQLite rebuilds the table
            batch.drop_column("purged_at")
    op.drop_index("ix_case_closures_standing", table_name="case_closures")
    op.drop_table("case_closures")
