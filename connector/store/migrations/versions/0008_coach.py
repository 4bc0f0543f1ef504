"""coach: a leerbewijs' holder, the switcher (as before) or one of the exchange's coaches
(issue 15 item 5: hosting counts as learning, per organisation with `coach_learning`)

Revision ID: 0008_coach
Revises: 0006_attendance
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_coach"
down_revision = "0009_managers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leerbewijzen") as batch:
        # every leerbewijs issued so far is a switcher's
        batch.add_column(sa.Column("role", sa.String(length=10), nullable=False, server_default="switcher"))
        batch.add_column(sa.Column("holder_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leerbewijzen") as batch:
        batch.drop_column("holder_id")
        batch.drop_column("role")
