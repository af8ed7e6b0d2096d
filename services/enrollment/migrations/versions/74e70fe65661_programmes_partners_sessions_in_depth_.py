"""programmes, partners, sessions in depth, public seats and attendance

Revision ID: 74e70fe65661
Revises: 7c7a53258432
Create Date: 2026-11-25 17:06:38.481448

"""

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision = "74e70fe65661"
down_revision = "7c7a53258432"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('confirmed', 'waitlisted', 'pending')")
# SQLite keeps the first schema's UNIQUE (session_id, user_id) unnamed: batch mode names it by this
# convention to drop it; PostgreSQL named it itself.
UNIQUE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _old_unique() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "enrollments_session_id_user_id_key"
    return "uq_enrollments_session_id_user_id"


def upgrade():
    with op.batch_alter_table("enrollments", naming_convention=UNIQUE_NAMES) as batch_op:
        batch_op.drop_constraint(_old_unique(), type_="unique")
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("hold_expires_at", shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            "uq_enrollments_active_email",
            ["session_id", "email"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
        batch_op.create_index(
            "uq_enrollments_active_user",
            ["session_id", "user_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("online_link", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("pre_test_slug", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("post_test_slug", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("enrollment_opens_at", shared.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("enrollment_closes_at", shared.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), server_default="scheduled", nullable=False)
        )
        batch_op.add_column(
            sa.Column("cancel_reason", sa.String(length=500), server_default="", nullable=False)
        )

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "programme_partners",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.PrimaryKeyConstraint("programme_id", "partner_id", "role"),
    )
    with op.batch_alter_table("programme_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_partners_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "session_speakers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session_speakers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_speakers_session_id"), ["session_id"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        sa.Column("marked_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollments.id"]),
        sa.ForeignKeyConstraint(["marked_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("enrollment_id"),
    )


def downgrade():
    op.drop_table("attendance")
    with op.batch_alter_table("session_speakers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_speakers_session_id"))
    op.drop_table("session_speakers")
    with op.batch_alter_table("programme_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_partners_partner_id"))
    op.drop_table("programme_partners")
    op.drop_table("partners")

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        for column in (
            "cancel_reason",
            "status",
            "enrollment_closes_at",
            "enrollment_opens_at",
            "post_test_slug",
            "pre_test_slug",
            "online_link",
        ):
            batch_op.drop_column(column)

    # The first schema holds neither public enrollments nor a second enrollment after a cancelled one.
    op.execute("DELETE FROM enrollments WHERE user_id IS NULL OR status NOT IN ('confirmed', 'waitlisted')")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index("uq_enrollments_active_user", sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.drop_index("uq_enrollments_active_email", sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.alter_column("user_id", existing_type=sa.INTEGER(), nullable=False)
        for column in ("cancelled_at", "hold_expires_at", "language", "email", "name"):
            batch_op.drop_column(column)
        batch_op.create_unique_constraint(_old_unique(), ["session_id", "user_id"])
