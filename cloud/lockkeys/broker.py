"""Broker accounts of the locks: Mosquitto 2.0 password-file hashes, and the password file itself.

Mosquitto 2.0 reads two hash formats in a password_file: `$6$` (salted SHA-512, the 1.x default) and
`$7$` (PBKDF2-HMAC-SHA512, what mosquitto_passwd 2.0 writes):

    username:$7$<iterations>$<base64 salt, 12 bytes>$<base64 PBKDF2-SHA512(password, salt, iterations)>

The cloud stores only this line's hash; tests/cloud/test_broker_accounts.py has a real mosquitto accept it.
"""

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from sqlmodel import Session, col, select

from cloud.lockkeys.models import DoorKey
from cloud.models.door import Door

# mosquitto_passwd 2.0's own count. The passwords are random (BROKER_PASSWORD_BYTES), so iterations add no
# strength against guessing; they only cost the broker CPU at every connection.
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64
BROKER_PASSWORD_BYTES = 24


def new_broker_password() -> str:
    return secrets.token_urlsafe(BROKER_PASSWORD_BYTES)


def mosquitto_hash(password: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    salt = os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_hash_matches(password: str, stored: str) -> bool:
    """True if `password` matches a `$7$` hash (as Mosquitto checks it)."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    salt, expected = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(digest, expected)


def password_file_lines(*, session: Session) -> list[str]:
    """`device_id:hash` for every door that has a broker account (provisioned, not retired), by device id."""
    rows = session.exec(
        select(Door.device_id, DoorKey.broker_password_hash)
        .join(DoorKey, col(DoorKey.door_id) == col(Door.id))
        .where(Door.retired_at == 0, DoorKey.broker_password_hash != "")
        .order_by(col(Door.device_id))
    ).all()
    return [f"{device_id}:{password_hash}" for device_id, password_hash in rows]


def write_password_file(path: Path, lines: Iterable[str]) -> int:
    """Replace `path` atomically (mode 0640: the broker's group may read it); returns the line count."""
    lines = list(lines)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write("".join(line + "\n" for line in lines))
    os.replace(temporary, path)
    return len(lines)
