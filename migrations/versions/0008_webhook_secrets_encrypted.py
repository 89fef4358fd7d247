"""srs: webhook signing secrets encrypted at rest (SR_WEBHOOK_SECRET_KEYS)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:30:00

Existing secrets are encrypted in place with the application's configured key
(the first of SR_WEBHOOK_SECRET_KEYS, or the embedded demo's derived key), so
partners keep verifying deliveries with the secret they were given.
"""
import base64
import hashlib

from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

webhooks = sa.table('partner_webhooks', sa.column('id', sa.Integer()), sa.column('secret', sa.String()),
                    sa.column('secret_ciphertext', sa.Text()))


def _cipher():
    # As app.crypto derived keys when this revision was written, copied here so that later changes
    # to the application cannot change what this revision does.
    keys = list(current_app.config.get('SR_WEBHOOK_SECRET_KEYS') or [])
    if not keys:
        digest = hashlib.sha256(b'webhook-secret:' + current_app.config['SECRET_KEY'].encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def upgrade():
    with op.batch_alter_table('partner_webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_ciphertext', sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(webhooks.c.id, webhooks.c.secret)).all()
    if rows:
        fernet = _cipher()
        for row in rows:
            connection.execute(webhooks.update().where(webhooks.c.id == row.id).values(
                secret_ciphertext=fernet.encrypt(row.secret.encode()).decode()))
    with op.batch_alter_table('partner_webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret_ciphertext', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('secret')


def downgrade():
    with op.batch_alter_table('partner_webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.String(length=100), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(webhooks.c.id, webhooks.c.secret_ciphertext)).all()
    if rows:
        fernet = _cipher()
        for row in rows:
            connection.execute(webhooks.update().where(webhooks.c.id == row.id).values(
                secret=fernet.decrypt(row.secret_ciphertext.encode()).decode()))
    with op.batch_alter_table('partner_webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_column('secret_ciphertext')
