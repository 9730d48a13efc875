"""the KID of each instalment of a payment-plan letter, beside the letter's own KID

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("letters", sa.Column("instalment_kids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("letters") as batch:  # SQLite rebuilds the table
        batch.drop_column("instalment_kids")
