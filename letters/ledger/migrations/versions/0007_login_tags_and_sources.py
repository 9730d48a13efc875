"""debtor logins: each letter's password lookup tag, each login try's source

Revision ID: 0006
Revises: 0005

Letters recorded before this migration keep a NULL tag (their passwords are not known, so
no tag can be computed); letters.credentials checks them apart until the last has expired.
Login tries recorded before it have no source and leave the 15-minute window soon.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("letters", sa.Column("password_tag", sa.String(length=64), nullable=True))
    tagged, untagged = sa.text("password_tag IS NOT NULL"), sa.text("password_tag IS NULL")
    op.create_index(
        "ix_letters_password_tag",
        "letters",
        ["password_tag"],
        unique=False,
        postgresql_where=tagged,
        sqlite_where=tagged,
    )
    op.create_index(
        "ix_letters_untagged_expiry",
        "letters",
        ["password_expires_at"],
        unique=False,
        postgresql_where=untagged,
        sqlite_where=untagged,
    )
    op.add_column("login_attempts", sa.Column("source", sa.String(length=64), nullable=True))
    op.create_index("ix_login_attempts_source_at", "login_attempts", ["source", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_attempts_source_at", table_name="login_attempts")
    op.drop_index("ix_letters_untagged_expiry", table_name="letters")
    op.drop_index("ix_letters_password_tag", table_name="letters")
    with op.batch_alter_table("login_attempts") as batch:  # SQLite rebuilds the table
        batch.drop_column("source")
    with op.batch_alter_table("letters") as batch:
        batch.drop_column("password_tag")
