"""managers: a person's line manager (the canonical id of another person of the same organisation)

Revision ID: 0009_managers
Revises: 0006_attendance
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_managers"
down_revision = "0010_cohort"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("manager", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("manager")
