"""AES-256-GCM sealing of one secret value in one column of one row.

The associated data names the table, the column and the row's key, so a sealed value copied into another
row or column does not open. A sealed value is text:

    v1.<key id: 8 hex>.<base64url(nonce 12 bytes || ciphertext || tag 16 bytes)>

The key id (derived from the master key, revealing nothing about it) lets an error say "sealed under
another master key" instead of a bare authentication failure.
"""

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT = "v1"
_KEY_ID_LABEL = b"openakerun/master-key-id"
_AAD_PREFIX = "openakerun/sealed/v1"
# Longest sealed text for a 32-byte secret is 92 characters; the columns allow twice that.
SEALED_MAX_CHARS = 200


class SealError(RuntimeError):
    """A sealed value that does not open: wrong master key, or a value moved to another row or altered."""


def master_key_id(master: bytes) -> str:
    return hmac.new(master, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]


def _aad(table: str, column: str, row: object) -> bytes:
    return f"{_AAD_PREFIX}|{table}|{column}|{row}".encode()


class Sealer:
    """Seals and opens values under one master key (the key itself is kept only inside AESGCM)."""

    def __init__(self, master: bytes) -> None:
        if len(master) != MASTER_KEY_BYTES:
            raise ValueError(f"the master key must be {MASTER_KEY_BYTES} bytes")
        self._aead = AESGCM(master)
        self.key_id = master_key_id(master)

    def __repr__(self) -> str:
        return f"Sealer(key_id={self.key_id})"

    def seal(self, plaintext: bytes, *, table: str, column: str, row: object) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, _aad(table, column, row))
        return f"{FORMAT}.{self.key_id}.{base64.urlsafe_b64encode(sealed).decode()}"

    def open(self, text: str, *, table: str, column: str, row: object) -> bytes:
        where = f"{table}.{column} of row {row}"
        parts = text.split(".")
        if len(parts) != 3 or parts[0] != FORMAT:
            raise SealError(f"{where} is not a sealed value")
        if parts[1] != self.key_id:
            raise SealError(
                f"{where} was sealed under master key {parts[1]}, the configured one is {self.key_id}: "
                "set OPENAKERUN_MASTER_KEY(_FILE) to the key this database was sealed with"
            )
        try:
            sealed = base64.urlsafe_b64decode(parts[2])
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(table, column, row))
        except (InvalidTag, ValueError):
            raise SealError(f"{where} does not open: it was altered or copied from another row") from None
