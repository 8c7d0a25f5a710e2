"""order total: the migration of the next RC

Revision ID: b2
"""
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade():
    op.add_column("orders", sa.Column("total_cents", sa.Integer, nullable=False, server_default="0"))


def downgrade():
    op.drop_column("orders", "total_cents")
