"""integrations: webhooks (endpoints, outbox, attempts), event gaps, verifications; integration keys
(scopes, rate limit), door face and direction settings, site day boundary, user validity, event terminal
(and a longer method), command expiry

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-02 14:47:10.897220
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_gap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("door_id", sa.Integer(), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("to_seq", sa.BigInteger(), nullable=False),
        sa.Column("from_ts", sa.BigInteger(), nullable=False),
        sa.Column("to_ts", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("door_id", "from_seq"),
    )
    with op.batch_alter_table("event_gap", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_gap_door_id"), ["door_id"], unique=False)
        batch_op.create_index("ix_event_gap_site_to_ts", ["site_id", "to_ts"], unique=False)

    op.create_table(
        "verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("door_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("card_event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_event_id"),
    )
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_door_user_created", ["door_id", "user_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_verification_site_id"), ["site_id"], unique=False)

    op.create_table(
        "webhook_endpoint",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.String(length=200), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_endpoint_site_id"), ["site_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_endpoint_status_id", ["endpoint_id", "status", "id"], unique=False
        )

    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempt_delivery_id"), ["delivery_id"], unique=False)

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("rate_limit_per_min", sa.Integer(), nullable=True))

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("valid_until", sa.BigInteger(), nullable=False, server_default="0"))

    with op.batch_alter_table("command", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=False, server_default="0"))

    with op.batch_alter_table("door", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direction", sa.String(length=8), nullable=False, server_default="in"))
        batch_op.add_column(sa.Column("face_threshold", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("require_face_s", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("event", schema=None) as batch_op:
        # "card+face" needs more than 0007's 8 characters.
        batch_op.alter_column("method", existing_type=sa.String(length=8), type_=sa.String(length=16))
        batch_op.add_column(sa.Column("terminal_id", sa.String(length=64), nullable=False, server_default=""))
        batch_op.alter_column("seq", existing_type=sa.BIGINT(), nullable=True)

    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("day_boundary_minute", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("day_boundary_minute")

    # Events the cloud recorded itself (face verifications) have no sequence number: 0007 cannot hold them.
    op.execute("DELETE FROM event WHERE seq IS NULL")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BIGINT(), nullable=False)
        batch_op.drop_column("terminal_id")
        batch_op.alter_column("method", existing_type=sa.String(length=16), type_=sa.String(length=8))

    with op.batch_alter_table("door", schema=None) as batch_op:
        batch_op.drop_column("require_face_s")
        batch_op.drop_column("face_threshold")
        batch_op.drop_column("direction")

    with op.batch_alter_table("command", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("rate_limit_per_min")
        batch_op.drop_column("scopes")

    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempt_delivery_id"))

    op.drop_table("webhook_attempt")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_endpoint_status_id")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoint_site_id"))

    op.drop_table("webhook_endpoint")
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_site_id"))
        batch_op.drop_index("ix_verification_door_user_created")

    op.drop_table("verification")
    with op.batch_alter_table("event_gap", schema=None) as batch_op:
        batch_op.drop_index("ix_event_gap_site_to_ts")
        batch_op.drop_index(batch_op.f("ix_event_gap_door_id"))

    op.drop_table("event_gap")
