"""contracts: one product per family and model whatever their case

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 05:00:00

The index is on lower(family), lower(model), which both SQLite and PostgreSQL
index. SQLite does not reflect expression indexes: a later batch operation that
recreates `products` on SQLite must create this index again after it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_products_family_model'), type_='unique')
    op.create_index('uq_products_family_model_ci', 'products',
                    [sa.text('lower(family)'), sa.text('lower(model)')], unique=True)


def downgrade():
    op.drop_index('uq_products_family_model_ci', table_name='products')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_products_family_model'), ['family', 'model'])
