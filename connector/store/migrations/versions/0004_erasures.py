"""erasures: who was erased when, by pseudonym only

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
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=36), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_erasures_pseudonym")),
    )


def downgrade() -> None:
    op.drop_table("erasures")
