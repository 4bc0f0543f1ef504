"""outbox.uncertain and external_refs.details

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
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("uncertain", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("external_refs") as batch:
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("external_refs") as batch:
        batch.drop_column("details")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("uncertain")
