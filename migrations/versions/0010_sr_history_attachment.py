"""srs: a file added to an SR's thread is an entry of its timeline (sr_history kind 'attachment')

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:00:00

Only the CHECK constraint of sr_history.kind changes. Files added before this
revision get no timeline entry: their attachment rows and audit entries remain.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

KINDS = ('opened', 'status', 'assignment', 'severity', 'message', 'management_escalation', 'rma')


def _kinds(kinds):
    with op.batch_alter_table('sr_history', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sr_history_sr_history_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sr_history_sr_history_kind'),
                                         "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade():
    _kinds(KINDS + ('attachment',))


def downgrade():
    # The files stay on the case; only their timeline entries go, as the old constraint has no room for them.
    op.execute(sa.text("DELETE FROM sr_history WHERE kind = 'attachment'"))
    _kinds(KINDS)
