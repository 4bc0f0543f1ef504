"""perf: what a sync at the scale of 100,000 people looks up, indexed, and the raw record's hash

- source_records.raw_hash: the hash of the raw record as the source delivered it (and of the
  mapping that read it), so a record delivered again unchanged is not mapped and validated again;
- source_records (canonical_id, source, entity): reconcile finds the records linked to a person;
- source_records (changed_run, entity, source, remote_id): reconcile finds what this run
  changed, in the order it links them (SQLite, without statistics, would otherwise walk the
  unique key for the order and read every record of the source);
- people (organisation_id, lower(employee_number)): reconcile matches employee numbers
  case-insensitively.

Revision ID: 0011_perf
Revises: 0006_attendance
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_perf"
down_revision = "0008_coach"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_records") as batch:
        batch.add_column(sa.Column("raw_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_source_records_canonical_id", "source_records", ["canonical_id", "source", "entity"])
    op.create_index("ix_source_records_changed", "source_records", ["changed_run", "entity", "source", "remote_id"])
    op.create_index("ix_people_org_lower_employee_number", "people", ["organisation_id", sa.text("lower(employee_number)")])


def downgrade() -> None:
    op.drop_index("ix_people_org_lower_employee_number", table_name="people")
    op.drop_index("ix_source_records_changed", table_name="source_records")
    op.drop_index("ix_source_records_canonical_id", table_name="source_records")
    with op.batch_alter_table("source_records") as batch:
        batch.drop_column("raw_hash")
