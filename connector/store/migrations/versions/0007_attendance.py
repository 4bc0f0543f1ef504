"""attendance: a session's attendance (the switcher's); a leerbewijs may be replaced by a
corrected one (revoked, and issued again under a new number for the same exchange)

Revision ID: 0006_attendance
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_attendance"
down_revision = "0006_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("attendance", sa.String(length=10), nullable=True))
    with op.batch_alter_table("leerbewijzen") as batch:
        batch.drop_constraint("uq_leerbewijzen_exchange_code", type_="unique")
        batch.create_index("ix_leerbewijzen_exchange_code", ["exchange_code"])
        batch.add_column(sa.Column("replaces", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("replaced_by", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leerbewijzen") as batch:
        batch.drop_column("replaced_by")
        batch.drop_column("replaces")
        batch.drop_index("ix_leerbewijzen_exchange_code")
        batch.create_unique_constraint("uq_leerbewijzen_exchange_code", ["exchange_code"])
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("attendance")
