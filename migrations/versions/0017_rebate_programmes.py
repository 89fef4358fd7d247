"""programmes: rebate programmes, periods, tiers, target versions, alleviations, partner sales, settlements

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-05 05:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def _created():
    return sa.Column('created_at', sa.DateTime(timezone=True), nullable=False)


def upgrade():
    op.create_table('rebate_programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('baseline_target', sa.BigInteger(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    _created(),
    sa.CheckConstraint('baseline_target > 0', name=op.f('ck_rebate_programmes_baseline_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rebate_programmes_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rebate_programmes')),
    sa.UniqueConstraint('name', name=op.f('uq_rebate_programmes_name'))
    )
    op.create_table('programme_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=7), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_programme_periods_ends_after_start')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_programme_periods_closed_by_id_users')),
    sa.ForeignKeyConstraint(['programme_id'], ['rebate_programmes.id'],
                            name=op.f('fk_programme_periods_programme_id_rebate_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_periods')),
    sa.UniqueConstraint('programme_id', 'label', name=op.f('uq_programme_periods_programme_id_label'))
    )
    op.create_table('rebate_tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('from_bp', sa.Integer(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.CheckConstraint('from_bp >= 0 AND rate_bp >= 0 AND rate_bp <= 10000', name=op.f('ck_rebate_tiers_bounds')),
    sa.ForeignKeyConstraint(['programme_id'], ['rebate_programmes.id'],
                            name=op.f('fk_rebate_tiers_programme_id_rebate_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rebate_tiers')),
    sa.UniqueConstraint('programme_id', 'from_bp', name=op.f('uq_rebate_tiers_programme_id_from_bp'))
    )
    op.create_table('target_alleviations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('reduction_bp', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=8), nullable=True),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('partners', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    _created(),
    sa.CheckConstraint('reduction_bp > 0 AND reduction_bp < 10000',
                       name=op.f('ck_target_alleviations_reduction_bounds')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_target_alleviations_created_by_id_users')),
    sa.ForeignKeyConstraint(['period_id'], ['programme_periods.id'],
                            name=op.f('fk_target_alleviations_period_id_programme_periods')),
    sa.ForeignKeyConstraint(['programme_id'], ['rebate_programmes.id'],
                            name=op.f('fk_target_alleviations_programme_id_rebate_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_alleviations'))
    )
    op.create_table('target_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('alleviation_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    _created(),
    sa.CheckConstraint('amount > 0', name=op.f('ck_target_versions_amount_positive')),
    sa.ForeignKeyConstraint(['alleviation_id'], ['target_alleviations.id'],
                            name=op.f('fk_target_versions_alleviation_id_target_alleviations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_target_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_target_versions_partner_id_organisations')),
    sa.ForeignKeyConstraint(['period_id'], ['programme_periods.id'],
                            name=op.f('fk_target_versions_period_id_programme_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_versions'))
    )
    op.create_index('ix_target_versions_period_partner', 'target_versions',
                    ['period_id', 'partner_id', 'effective_from'], unique=False)
    op.create_table('partner_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_reference', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('sold_on', sa.Date(), nullable=False),
    sa.Column('product_family', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_partner_sales_amount_not_negative')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_partner_sales_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_sales')),
    sa.UniqueConstraint('invoice_reference', name=op.f('uq_partner_sales_invoice_reference'))
    )
    op.create_index('ix_partner_sales_partner_day', 'partner_sales', ['partner_id', 'sold_on'], unique=False)
    op.create_table('rebate_settlements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('sales', sa.BigInteger(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('attainment_bp', sa.Integer(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('rebate', sa.BigInteger(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    _created(),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_rebate_settlements_claim_id_claims')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'],
                            name=op.f('fk_rebate_settlements_partner_id_organisations')),
    sa.ForeignKeyConstraint(['period_id'], ['programme_periods.id'],
                            name=op.f('fk_rebate_settlements_period_id_programme_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rebate_settlements')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_rebate_settlements_claim_id')),
    sa.UniqueConstraint('period_id', 'partner_id', name=op.f('uq_rebate_settlements_period_id_partner_id'))
    )


def downgrade():
    op.drop_table('rebate_settlements')
    op.drop_index('ix_partner_sales_partner_day', table_name='partner_sales')
    op.drop_table('partner_sales')
    op.drop_index('ix_target_versions_period_partner', table_name='target_versions')
    op.drop_table('target_versions')
    op.drop_table('target_alleviations')
    op.drop_table('rebate_tiers')
    op.drop_table('programme_periods')
    op.drop_table('rebate_programmes')
