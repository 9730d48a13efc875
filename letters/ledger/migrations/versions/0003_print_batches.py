"""print batches and the letters in them

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_batches",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_slot", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closing_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("sheets", sa.Integer(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=True),
        sa.Column("sums_sha256", sa.String(length=64), nullable=True),
        sa.Column("handoff", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sequence"),
        sa.UniqueConstraint("open_slot"),
    )
    op.create_index("ix_print_batches_status", "print_batches", ["status"], unique=False)
    op.create_table(
        "print_batch_letters",
        sa.Column("letter_id", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("sort_key", sa.String(length=40), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["print_batches.id"]),
        sa.ForeignKeyConstraint(["letter_id"], ["letters.id"]),
        sa.PrimaryKeyConstraint("letter_id"),
    )
    op.create_index(
        "ix_print_batch_letters_batch_sort",
        "print_batch_letters",
        ["batch_id", "sort_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_print_batch_letters_batch_sort", table_name="print_batch_letters")
    op.drop_table("print_batch_letters")
    op.drop_index("ix_print_batches_status", table_name="print_batches")
    op.drop_table("print_batches")
