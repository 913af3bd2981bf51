"""secrets at rest: sealed site keys and device secrets, no card identifiers, lock keys and epochs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 13:00:00

- site.site_key (hex)        -> site.site_key_sealed (AES-256-GCM under the master key, bound to the row)
- door.device_secret (hex)   -> door_key row: generation 1, sealed; door.epoch = 1 (provisioned once),
                                door.retired_at = 0. No broker account yet (POST /doors/{id}/provision).
- credential.identifier      -> credential.identifier_hint ("felica:****CDEF", none for phones) and
                                not_unique; assurance recomputed (recognises non-unique identifiers). The
                                identifier column (phone tokens included) is dropped: cred_hash stays.

The master key comes from the same settings as the server's (OPENAKERUN_MASTER_KEY, or the file named by
OPENAKERUN_MASTER_KEY_FILE, default var/master.key). A database holding sites or doors cannot be migrated
without it: the upgrade stops before changing anything, with a message that names the fix. An empty database
needs no key. There is no downgrade: the dropped identifiers cannot be brought back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cloud.models.common import now_ts
from cloud.vault.master import MasterKeyError, active_sealer
from cloud.vault.sealing import Sealer
from shared_schema.assurance import assurance, not_unique
from shared_schema.credentials import KIND_PHONE, CredentialError, normalize

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = sa.String(length=200)


def _sealer_if_needed(bind: sa.Connection) -> Sealer | None:
    rows = bind.execute(sa.text("SELECT (SELECT COUNT(*) FROM site) + (SELECT COUNT(*) FROM door)")).scalar()
    if not rows:
        return None
    try:
        return active_sealer()
    except MasterKeyError as error:
        raise MasterKeyError(
            f"migration 0002 seals existing site keys and device secrets and needs the master key: {error}"
        ) from None


def _credential_values(kind: str, identifier: str, stored_assurance: str) -> dict[str, object]:
    # As cloud.crud.credentials.prepare_credential at this revision.
    masked = "" if kind == KIND_PHONE else f"{kind}:****{identifier[-4:].upper()}"
    try:
        normalized = normalize(kind, identifier)
    except CredentialError:  # enrolled under older rules: keep what was stored
        return {"hint": masked, "not_unique": False, "assurance": stored_assurance}
    return {"hint": masked, "not_unique": not_unique(normalized), "assurance": assurance(kind, normalized)}


def _fill(bind: sa.Connection, sealer: Sealer | None) -> None:
    for site_id, key_hex in bind.execute(sa.text("SELECT id, site_key FROM site")).all():
        assert sealer is not None
        sealed = sealer.seal(bytes.fromhex(key_hex), table="site", column="site_key", row=site_id)
        update = sa.text("UPDATE site SET site_key_sealed = :s WHERE id = :i")
        bind.execute(update, {"s": sealed, "i": site_id})
    for door_id, secret_hex in bind.execute(sa.text("SELECT id, device_secret FROM door")).all():
        assert sealer is not None
        sealed = sealer.seal(bytes.fromhex(secret_hex), table="door_key", column="secret", row=f"{door_id}/1")
        bind.execute(
            sa.text(
                "INSERT INTO door_key (door_id, gen, secret_sealed, next_secret_sealed, rekey_state, "
                "rekey_requested_at, broker_password_hash, updated_at) "
                "VALUES (:d, 1, :s, NULL, 'none', 0, '', :t)"
            ),
            {"d": door_id, "s": sealed, "t": now_ts()},
        )
    bind.execute(sa.text("UPDATE door SET epoch = 1, retired_at = 0"))
    rows = bind.execute(sa.text("SELECT id, kind, identifier, assurance FROM credential")).all()
    for credential_id, kind, identifier, stored_assurance in rows:
        values = _credential_values(kind, identifier, stored_assurance)
        bind.execute(
            sa.text(
                "UPDATE credential SET identifier_hint = :hint, not_unique = :not_unique, "
                "assurance = :assurance WHERE id = :i"
            ),
            {**values, "i": credential_id},
        )


def upgrade() -> None:
    bind = op.get_bind()
    sealer = _sealer_if_needed(bind)  # before any change: a missing key leaves the database as it was
    op.create_table(
        "door_key",
        sa.Column("door_id", sa.Integer(), nullable=False),
        sa.Column("gen", sa.BigInteger(), nullable=False),
        sa.Column("secret_sealed", _SEALED, nullable=False),
        sa.Column("next_secret_sealed", _SEALED, nullable=True),
        sa.Column("rekey_state", sa.String(length=16), nullable=False),
        sa.Column("rekey_requested_at", sa.BigInteger(), nullable=False),
        sa.Column("broker_password_hash", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["door_id"], ["door.id"]),
        sa.PrimaryKeyConstraint("door_id"),
    )
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identifier_hint", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("not_unique", sa.Boolean(), nullable=True))
    with op.batch_alter_table("door", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_key_sealed", _SEALED, nullable=True))

    _fill(bind, sealer)

    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.alter_column("identifier_hint", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("not_unique", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column("identifier")
    with op.batch_alter_table("door", schema=None) as batch_op:
        batch_op.alter_column("epoch", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("retired_at", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("device_secret")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.alter_column("site_key_sealed", existing_type=_SEALED, nullable=False)
        batch_op.drop_column("site_key")


def downgrade() -> None:
    raise NotImplementedError(
        "0002 cannot be undone: the card identifiers it dropped are gone (restore a backup taken before it)"
    )
