"""answers: what people send back through their personal links (connector/web)

Revision ID: 0013_answers_web
Revises: 0006_attendance
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_answers_web"
down_revision = "0006_attendance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("exchange_code", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("session_code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("subject", "exchange_code", "purpose", "session_code", name="uq_answers_one"),
    )
    op.create_index("ix_answers_exchange", "answers", ["exchange_code"])


def downgrade() -> None:
    op.drop_index("ix_answers_exchange", table_name="answers")
    op.drop_table("answers")
