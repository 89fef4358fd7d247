"""srs: GTAC's work on SRs (timeline, solutions, SLA alerts, management escalations), RMAs, webhooks

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-25 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rma_number_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_number_counter'))
    )
    op.create_table('partner_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_partner_webhooks_created_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_partner_webhooks_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_webhooks'))
    )
    with op.batch_alter_table('partner_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_webhooks_partner_id'), ['partner_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='webhook_delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['webhook_id'], ['partner_webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_partner_webhooks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', 'event_id', name=op.f('uq_webhook_deliveries_webhook_id_event_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('rmas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=11), nullable=False),
    sa.Column('sr_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'approved', 'rejected', 'shipped', 'received', name='rma_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('ship_to', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('tracking', sa.String(length=100), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_rmas_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_rmas_requested_by_id_users')),
    sa.ForeignKeyConstraint(['sr_id'], ['service_requests.id'], name=op.f('fk_rmas_sr_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rmas')),
    sa.UniqueConstraint('number', name=op.f('uq_rmas_number'))
    )
    with op.batch_alter_table('rmas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rmas_sr_id'), ['sr_id'], unique=False)

    op.create_table('sr_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sr_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('opened', 'status', 'assignment', 'severity', 'message', 'management_escalation', 'rma', name='sr_history_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('move', sa.String(length=32), nullable=True),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_sr_history_actor_id_users')),
    sa.ForeignKeyConstraint(['sr_id'], ['service_requests.id'], name=op.f('fk_sr_history_sr_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sr_history'))
    )
    with op.batch_alter_table('sr_history', schema=None) as batch_op:
        batch_op.create_index('ix_sr_history_timeline', ['sr_id', 'id'], unique=False)

    op.create_table('sr_management_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sr_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_sr_management_escalations_level_range')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_sr_management_escalations_requested_by_id_users')),
    sa.ForeignKeyConstraint(['sr_id'], ['service_requests.id'], name=op.f('fk_sr_management_escalations_sr_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sr_management_escalations')),
    sa.UniqueConstraint('sr_id', 'level', name=op.f('uq_sr_management_escalations_sr_id_level'))
    )
    op.create_table('sr_sla_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sr_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('warning', 'breach', name='sr_alert_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('batch', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sr_id'], ['service_requests.id'], name=op.f('fk_sr_sla_alerts_sr_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sr_sla_alerts')),
    sa.UniqueConstraint('sr_id', 'kind', 'due_at', name=op.f('uq_sr_sla_alerts_sr_id_kind_due_at'))
    )
    with op.batch_alter_table('sr_sla_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_sr_sla_alerts_batch', ['batch', 'queue'], unique=False)
        batch_op.create_index('ix_sr_sla_alerts_due', ['kind', 'due_at'], unique=False)

    op.create_table('rma_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=False),
    sa.Column('serial_number', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('failure_description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_rma_items_product_id_products')),
    sa.ForeignKeyConstraint(['rma_id'], ['rmas.id'], name=op.f('fk_rma_items_rma_id_rmas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_items')),
    sa.UniqueConstraint('rma_id', 'serial_number', name=op.f('uq_rma_items_rma_id_serial_number'))
    )
    op.create_table('sr_solutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sr_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('fix', 'patch', 'workaround', 'rma', name='sr_solution_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=True),
    sa.Column('provided_by_id', sa.Integer(), nullable=False),
    sa.Column('provided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provided_by_id'], ['users.id'], name=op.f('fk_sr_solutions_provided_by_id_users')),
    sa.ForeignKeyConstraint(['rma_id'], ['rmas.id'], name=op.f('fk_sr_solutions_rma_id_rmas')),
    sa.ForeignKeyConstraint(['sr_id'], ['service_requests.id'], name=op.f('fk_sr_solutions_sr_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sr_solutions'))
    )
    with op.batch_alter_table('sr_solutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sr_solutions_sr_id'), ['sr_id'], unique=False)

    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('solution_provided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('management_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_warn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_service_requests_assignee', ['assignee_id', 'sla_due_at'], unique=False)
        batch_op.create_index('ix_service_requests_due', ['sla_due_at', 'id'], unique=False, postgresql_where=sa.text('sla_due_at IS NOT NULL'), sqlite_where=sa.text('sla_due_at IS NOT NULL'))
        batch_op.create_index('ix_service_requests_queue_urgency', ['queue', 'sla_due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('new', 'assigned', 'in_progress', 'awaiting_partner')"), sqlite_where=sa.text("status IN ('new', 'assigned', 'in_progress', 'awaiting_partner')"))
        batch_op.create_index('ix_service_requests_warn', ['sla_warn_at'], unique=False, postgresql_where=sa.text('sla_warn_at IS NOT NULL'), sqlite_where=sa.text('sla_warn_at IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_service_requests_assignee_id_users'), 'users', ['assignee_id'], ['id'])

    # SRs opened before this revision: their earliest due time as escalation planned it (24x7).
    # Their near-breach point is not known; they are announced at the breach itself.
    op.execute(
        "UPDATE service_requests SET "
        "sla_due_at = CASE WHEN response_due_at < update_due_at THEN response_due_at ELSE update_due_at END, "
        "sla_warn_at = CASE WHEN response_due_at < update_due_at THEN response_due_at ELSE update_due_at END "
        "WHERE status IN ('new', 'assigned', 'in_progress')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE rma_number_seq START WITH 1 INCREMENT BY 1 NO CYCLE")



def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS rma_number_seq")
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_service_requests_assignee_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_service_requests_warn', postgresql_where=sa.text('sla_warn_at IS NOT NULL'), sqlite_where=sa.text('sla_warn_at IS NOT NULL'))
        batch_op.drop_index('ix_service_requests_queue_urgency', postgresql_where=sa.text("status IN ('new', 'assigned', 'in_progress', 'awaiting_partner')"), sqlite_where=sa.text("status IN ('new', 'assigned', 'in_progress', 'awaiting_partner')"))
        batch_op.drop_index('ix_service_requests_due', postgresql_where=sa.text('sla_due_at IS NOT NULL'), sqlite_where=sa.text('sla_due_at IS NOT NULL'))
        batch_op.drop_index('ix_service_requests_assignee')
        batch_op.drop_column('sla_warn_at')
        batch_op.drop_column('sla_due_at')
        batch_op.drop_column('management_level')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('solution_provided_at')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('responded_at')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('sr_solutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sr_solutions_sr_id'))

    op.drop_table('sr_solutions')
    op.drop_table('rma_items')
    with op.batch_alter_table('sr_sla_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_sr_sla_alerts_due')
        batch_op.drop_index('ix_sr_sla_alerts_batch')

    op.drop_table('sr_sla_alerts')
    op.drop_table('sr_management_escalations')
    with op.batch_alter_table('sr_history', schema=None) as batch_op:
        batch_op.drop_index('ix_sr_history_timeline')

    op.drop_table('sr_history')
    with op.batch_alter_table('rmas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rmas_sr_id'))

    op.drop_table('rmas')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('partner_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_webhooks_partner_id'))

    op.drop_table('partner_webhooks')
    op.drop_table('rma_number_counter')
