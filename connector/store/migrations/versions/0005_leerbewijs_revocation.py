"""leerbewijzen: when and why revoked (W3C Bitstring Status List)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leerbewijzen") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leerbewijzen") as batch:
        batch.drop_column("revoked_reason")
        batch.drop_column("revoked_at")
