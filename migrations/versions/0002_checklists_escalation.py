"""checklists, attachments, service requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:39:47.971727

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sr_number_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sr_number_counter'))
    )
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_records_user_id_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('error_log', 'core_file', 'support_bundle', 'capture', 'other', name='attachment_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)

    op.create_table('checklist_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('not_applicable', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_checklist_responses_case_id_cases')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_checklist_responses_responded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_responses')),
    sa.UniqueConstraint('case_id', 'item_code', name=op.f('uq_checklist_responses_case_id_item_code'))
    )
    op.create_table('service_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('new', 'assigned', 'in_progress', 'awaiting_partner', 'solution_provided', 'closed', name='sr_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('S1', 'S2', 'S3', 'S4', name='sr_severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('product_family', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('escalated_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_service_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['escalated_by_id'], ['users.id'], name=op.f('fk_service_requests_escalated_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_service_requests_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests')),
    sa.UniqueConstraint('case_id', name=op.f('uq_service_requests_case_id')),
    sa.UniqueConstraint('number', name=op.f('uq_service_requests_number'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index('ix_service_requests_partner_page', ['partner_id', 'id'], unique=False)
        batch_op.create_index('ix_service_requests_queue_page', ['queue', 'status', 'id'], unique=False)

    # Existing cases pin the first checklist version; defaults exist only for this step.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crash_reported', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('checklist_name', sa.String(length=64), nullable=False,
                                      server_default='partnerworks-gtac'))
        batch_op.add_column(sa.Column('checklist_version', sa.Integer(), nullable=False, server_default='1'))

    # The scope moves from case columns to the answers of the checklist's scope items.
    bind = op.get_bind()
    as_json = "to_jsonb({})" if bind.dialect.name == "postgresql" else "json_quote({})"
    for column in ('scope_what', 'scope_when', 'scope_how'):
        op.execute(
            "INSERT INTO checklist_responses (case_id, item_code, value, not_applicable, responded_by_id, responded_at) "
            f"SELECT id, '{column}', {as_json.format(column)}, false, opened_by_id, created_at FROM cases "
            f"WHERE {column} IS NOT NULL AND {column} <> ''"
        )

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('crash_reported', server_default=None)
        batch_op.alter_column('checklist_name', server_default=None)
        batch_op.alter_column('checklist_version', server_default=None)
        batch_op.drop_column('scope_what')
        batch_op.drop_column('scope_when')
        batch_op.drop_column('scope_how')

    if bind.dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE sr_number_seq START WITH 1 INCREMENT BY 1 NO CYCLE")



def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS sr_number_seq")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_how', sa.TEXT(), nullable=True))
        batch_op.add_column(sa.Column('scope_when', sa.TEXT(), nullable=True))
        batch_op.add_column(sa.Column('scope_what', sa.TEXT(), nullable=True))
        batch_op.drop_column('checklist_version')
        batch_op.drop_column('checklist_name')
        batch_op.drop_column('crash_reported')

    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_service_requests_queue_page')
        batch_op.drop_index('ix_service_requests_partner_page')

    op.drop_table('service_requests')
    op.drop_table('checklist_responses')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
    op.drop_table('sr_number_counter')
