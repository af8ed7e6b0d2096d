"""dashboards read models: feedback summaries and pre/post test scores

Revision ID: 8ff72f40dec0
Revises: 9fb377bfcaa7
Create Date: 2026-11-25 17:55:41.700549

"""

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision = "8ff72f40dec0"
down_revision = "9fb377bfcaa7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("session_key", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("overall_mean", sa.Float(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("summarised_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("programme_id", "session_key"),
    )
    op.create_table(
        "dashboard_test_scores",
        sa.Column("attempt_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("area_scores", sa.JSON(), nullable=False),
        sa.Column("graded_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    with op.batch_alter_table("dashboard_test_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_test_scores_programme_id"), ["programme_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("dashboard_test_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_test_scores_programme_id"))
    op.drop_table("dashboard_test_scores")
    op.drop_table("dashboard_feedback")
