"""planned_learning: what each employee plans to learn, and candidate learning questions

Revision ID: 0006_plans
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_plans"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planned_learning",
        sa.Column("id", sa.String(440), nullable=False),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(130), nullable=False),
        sa.Column("remote_id", sa.String(300), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("competence", sa.String(200), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("training_kind", sa.String(10), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("marked", sa.Boolean(), nullable=False),
        sa.Column("candidate", sa.Boolean(), nullable=False),
        sa.Column("candidate_code", sa.String(64), nullable=True),
        sa.Column("learning_question_code", sa.String(64), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_planned_learning_person_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_planned_learning"),
        sa.UniqueConstraint("candidate_code", name="uq_planned_learning_candidate_code"),
    )
    op.create_index("ix_planned_learning_person", "planned_learning", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_planned_learning_person", table_name="planned_learning")
    op.drop_table("planned_learning")
