"""initial schema

Revision ID: 0001
Revises: 
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('cursors',
    sa.Column('source', sa.String(length=130), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'entity', name=op.f('pk_cursors'))
    )
    op.create_table('external_refs',
    sa.Column('target', sa.String(length=130), nullable=False),
    sa.Column('object_type', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.String(length=300), nullable=False),
    sa.Column('remote_id', sa.String(length=500), nullable=True),
    sa.Column('uid', sa.String(length=300), nullable=True),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('applied_hash', sa.String(length=64), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('target', 'object_type', 'object_id', name=op.f('pk_external_refs'))
    )
    op.create_table('leerbewijzen',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('exchange_code', sa.String(length=64), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('total_hours', sa.Float(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_leerbewijzen')),
    sa.UniqueConstraint('exchange_code', name=op.f('uq_leerbewijzen_exchange_code'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enterprise_number', sa.String(length=20), nullable=True),
    sa.Column('average_workforce', sa.Float(), nullable=True),
    sa.Column('training_days_override', sa.Float(), nullable=True),
    sa.Column('hours_per_training_day', sa.Float(), nullable=True),
    sa.Column('joint_committee', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('idempotency_key', sa.String(length=400), nullable=False),
    sa.Column('target', sa.String(length=130), nullable=False),
    sa.Column('object_type', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('planned_run', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['status', 'target'], unique=False)

    op.create_table('source_records',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=130), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('remote_id', sa.String(length=300), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('canonical_id', sa.String(length=64), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('changed_run', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_records')),
    sa.UniqueConstraint('source', 'entity', 'remote_id', name='uq_source_records_key')
    )
    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('as_of', sa.DateTime(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    op.create_table('learning_places',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('excluded_departments', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_learning_places_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_learning_places'))
    )
    op.create_table('people',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('employee_number', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('site', sa.String(length=200), nullable=True),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('fte', sa.Float(), nullable=False),
    sa.Column('weekly_hours', sa.Float(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_people_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('organisation_id', 'employee_number', name='uq_people_org_employee_number')
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index('ix_people_org_email', ['organisation_id', 'email'], unique=False)

    op.create_table('coaches',
    sa.Column('learning_place_code', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['learning_place_code'], ['learning_places.code'], name=op.f('fk_coaches_learning_place_code_learning_places')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_coaches_person_id_people')),
    sa.PrimaryKeyConstraint('learning_place_code', 'person_id', name=op.f('pk_coaches'))
    )
    op.create_table('learning_questions',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('switcher_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('desired_result', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['switcher_id'], ['people.id'], name=op.f('fk_learning_questions_switcher_id_people')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_learning_questions'))
    )
    op.create_table('training_records',
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('exchange_code', sa.String(length=64), nullable=True),
    sa.Column('session_code', sa.String(length=64), nullable=True),
    sa.Column('leerbewijs_number', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=130), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_training_records_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_records'))
    )
    op.create_table('exchanges',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('switcher_id', sa.String(length=36), nullable=False),
    sa.Column('learning_question_code', sa.String(length=64), nullable=False),
    sa.Column('learning_place_code', sa.String(length=64), nullable=False),
    sa.Column('coach_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['learning_place_code'], ['learning_places.code'], name=op.f('fk_exchanges_learning_place_code_learning_places')),
    sa.ForeignKeyConstraint(['learning_question_code'], ['learning_questions.code'], name=op.f('fk_exchanges_learning_question_code_learning_questions')),
    sa.ForeignKeyConstraint(['switcher_id'], ['people.id'], name=op.f('fk_exchanges_switcher_id_people')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_exchanges'))
    )
    op.create_table('sessions',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('exchange_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('start', sa.DateTime(), nullable=False),
    sa.Column('end', sa.DateTime(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['exchange_code'], ['exchanges.code'], name=op.f('fk_sessions_exchange_code_exchanges')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sessions'))
    )
    


def downgrade() -> None:
    
    op.drop_table('sessions')
    op.drop_table('exchanges')
    op.drop_table('training_records')
    op.drop_table('learning_questions')
    op.drop_table('coaches')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index('ix_people_org_email')

    op.drop_table('people')
    op.drop_table('learning_places')
    op.drop_table('sync_runs')
    op.drop_table('source_records')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    op.drop_table('organisations')
    op.drop_table('leerbewijzen')
    op.drop_table('external_refs')
    op.drop_table('cursors')
    
