"""The master key that seals the database's secrets: never stored in the database.

Read from OPENAKERUN_MASTER_KEY (32 bytes as 64 hex characters or base64) or else from the file named by
OPENAKERUN_MASTER_KEY_FILE (default var/master.key, made by `python -m cloud keys init-master`, mode 0600).
The API server loads it at start (create_app) and refuses to start without it; the MQTT sync worker, the
CLI and migration 0002 load it from the same settings on first use (active_sealer()).
"""

import base64
import binascii
import os
import re
from pathlib import Path

from cloud.settings import Settings
from cloud.vault.sealing import MASTER_KEY_BYTES, Sealer

INIT_COMMAND = "python -m cloud keys init-master"
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class MasterKeyError(RuntimeError):
    """No usable master key; str(error) is one line that names the fix."""


def parse_master_key(text: str, source: str) -> bytes:
    """32 bytes from hex (64 characters) or base64 text; MasterKeyError naming `source` otherwise."""
    text = text.strip()
    if _HEX.match(text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise MasterKeyError(
            f"{source} is not a master key: it must hold {MASTER_KEY_BYTES} bytes as 64 hex characters "
            f"or base64 (make one with `{INIT_COMMAND}`)"
        )
    return key


def load_master_key(settings: Settings) -> bytes:
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.get_secret_value(), "OPENAKERUN_MASTER_KEY")
    path = settings.master_key_file
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise MasterKeyError(
            f"no master key: set OPENAKERUN_MASTER_KEY, or create {path} with `{INIT_COMMAND}` "
            "(or point OPENAKERUN_MASTER_KEY_FILE at the key file)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise MasterKeyError(f"cannot read the master key file {path}: {error.__class__.__name__}") from None
    return parse_master_key(text, f"the master key file {path}")


def create_master_key_file(path: Path) -> None:
    """A new random master key in `path` (base64, mode 0600); FileExistsError if the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(os.urandom(MASTER_KEY_BYTES)).decode() + "\n")


_active: Sealer | None = None


def install_master_key(settings: Settings) -> Sealer:
    """Load the master key from these settings and make it the process's (MasterKeyError if unusable)."""
    global _active
    _active = Sealer(load_master_key(settings))
    return _active


def active_sealer() -> Sealer:
    """The process's sealer; loaded from the environment's settings on first use."""
    return _active if _active is not None else install_master_key(Settings())


def forget_master_key() -> None:
    """Drop the loaded key (tests switch keys; a process reloads it from its settings on next use)."""
    global _active
    _active = None
