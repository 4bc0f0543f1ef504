"""cohort: cohorts with their phases and deadlines, group moments, and the cohort of each
exchange and learning question (with the switcher's first preference)

Revision ID: 0010_cohort
Revises: 0006_attendance
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_cohort"
down_revision = "0013_answers_web"
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table(
        "cohorts",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_cohorts")),
    )
    op.create_table(
        "cohort_phases",
        sa.Column("cohort_code", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("cohort_code", "phase", name=op.f("pk_cohort_phases")),
    )
    op.create_table(
        "group_moments",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("cohort_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_group_moments")),
    )
    with op.batch_alter_table("exchanges") as batch:
        batch.add_column(sa.Column("cohort_code", sa.String(length=64), nullable=True))
    with op.batch_alter_table("learning_questions") as batch:
        batch.add_column(sa.Column("cohort_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("preference", sa.String(length=200), nullable=True))

def downgrade() -> None:
    with op.batch_alter_table("learning_questions") as batch:
        batch.drop_column("preference")
        batch.drop_column("cohort_code")
    with op.batch_alter_table("exchanges") as batch:
        batch.drop_column("cohort_code")
    op.drop_table("group_moments")
    op.drop_table("cohort_phases")
    op.drop_table("cohorts")
