"""orders

Revision ID: a1
"""
import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("customer", sa.String(100), nullable=False))


def downgrade():
    op.drop_table("orders")
