# The lock's device secrets by key generation (docs/PROTOCOL.md "Keys" and "Key rotation").
#
# Provisioning writes one secret into config.json (`device_secret`, generation `key_gen`, default 1). A
# `rekey` adds a newer one; from then on keys.bin (atomic, CRC) holds every secret still needed, and
# config.json's is ignored:
#   newest      signs uplinks (K_up) and verifies downlinks (K_down);
#   confirmed   the newest generation a downlink has verified under: also verifies downlinks until the
#               newest one has (on_verified), so the cloud can keep signing with the old key until then;
#   table gen   the generation of the live permission table: its K_table looks taps up, so its secret stays
#               until a snapshot of a newer generation is live (prune).
# Losing keys.bin (or a damaged one, or one of another provisioning epoch) falls back to config.json's
# secret: newer downlinks no longer verify and a table of a later generation cannot be read, so every tap
# is refused (store_unavailable) until the lock is provisioned again. Nothing opens that was closed.
import binascii
import struct

from micropython import const

from core import fsutil
from shared_schema.hmac_sha256 import HmacKey, hmac_sha256

FILE_NAME = "keys.bin"
SECRET_BYTES = const(32)
_MAGIC = b"LKY1"
_HEADER = "<4sQII"  # magic, epoch, confirmed generation, count
_HEADER_SIZE = const(20)
_ENTRY = "<I32s"  # generation, secret
_ENTRY_SIZE = const(36)
_MAX_KEYS = const(3)
_MAX_GEN = 0xFFFFFFFF
LABEL_UP = b"openakerun/v2/up"
LABEL_DOWN = b"openakerun/v2/down"
LABEL_TABLE = b"openakerun/v2/table"
LABEL_REKEY = b"openakerun/v2/rekey/"
LABEL_MOBILE = b"openakerun/v2/mobile"  # shared_schema.mobilekeys.LABEL_MOBILE


def parse_secret(text):
    """A 32-byte device secret from config hex, or None."""
    if not isinstance(text, str):
        return None
    try:
        secret = binascii.unhexlify(text)
    except ValueError:
        return None
    return secret if len(secret) == SECRET_BYTES else None


def unwrap(k_down, counter, wrapped_hex):
    """The new secret of a `rekey` (64 hex chars), unwrapped with the K_down it verified under and its
    envelope counter `n`; None if `wrapped_hex` is not 64 hex characters."""
    try:
        wrapped = binascii.unhexlify(wrapped_hex)
    except (ValueError, TypeError):
        return None
    if len(wrapped) != SECRET_BYTES:
        return None
    pad = hmac_sha256(k_down, LABEL_REKEY + str(counter).encode())
    return bytes(wrapped[i] ^ pad[i] for i in range(SECRET_BYTES))


class Keys:
    def __init__(self, data_dir, secret, generation, epoch):
        """`secret`/`generation`: config.json's (secret None: not provisioned, no keys at all)."""
        self.path = fsutil.join(data_dir, FILE_NAME)
        self.epoch = epoch
        self._entries = []  # [generation, secret], at most _MAX_KEYS
        self.confirmed = 0
        self._derived = {}  # generation -> (K_down, K_up, K_table), made on first use
        self._mobile = {}  # generation -> K_mobile, made at the first phone of that generation
        self.status = self._load()  # "missing" | "ok" | "corrupt" (keys.bin)
        if self.status != "ok" and secret is not None and 1 <= generation <= _MAX_GEN:
            self._entries = [[generation, secret]]
            self.confirmed = generation

    def _load(self):
        fsutil.remove(self.path + ".tmp")
        raw = fsutil.read_all(self.path)
        if raw is None:
            return "missing"
        if len(raw) < _HEADER_SIZE + 4 or raw[:4] != _MAGIC:
            return "corrupt"
        (crc,) = struct.unpack_from("<I", raw, len(raw) - 4)
        _, epoch, confirmed, count = struct.unpack_from(_HEADER, raw, 0)
        if binascii.crc32(raw[:-4]) != crc or not 1 <= count <= _MAX_KEYS:
            return "corrupt"
        if len(raw) != _HEADER_SIZE + count * _ENTRY_SIZE + 4 or epoch != self.epoch:
            return "corrupt"  # another provisioning's keys count as lost
        for i in range(count):
            generation, secret = struct.unpack_from(_ENTRY, raw, _HEADER_SIZE + i * _ENTRY_SIZE)
            self._entries.append([generation, secret])
        self.confirmed = confirmed
        return "ok"

    def _save(self, entries, confirmed):
        out = bytearray(_HEADER_SIZE + len(entries) * _ENTRY_SIZE)
        struct.pack_into(_HEADER, out, 0, _MAGIC, self.epoch, confirmed, len(entries))
        for i in range(len(entries)):
            struct.pack_into(_ENTRY, out, _HEADER_SIZE + i * _ENTRY_SIZE, entries[i][0], entries[i][1])
        fsutil.write_atomic(self.path, bytes(out) + struct.pack("<I", binascii.crc32(out)))
        self._entries, self.confirmed, self.status = entries, confirmed, "ok"
        for cache in (self._derived, self._mobile):
            for generation in list(cache):
                if not self.has(generation):
                    del cache[generation]

    # --- what the lock holds -----------------------------------------------------------------------------

    def newest(self):
        """The newest generation held (0: none, not provisioned)."""
        best = 0
        for entry in self._entries:
            best = max(best, entry[0])
        return best

    def has(self, generation):
        return self._secret(generation) is not None

    def _secret(self, generation):
        for entry in self._entries:
            if entry[0] == generation:
                return entry[1]
        return None

    def _keys(self, generation):
        if generation not in self._derived:
            secret = self._secret(generation)
            if secret is None:
                return None
            self._derived[generation] = (
                HmacKey(hmac_sha256(secret, LABEL_DOWN)), HmacKey(hmac_sha256(secret, LABEL_UP)),
                HmacKey(hmac_sha256(secret, LABEL_TABLE)),
            )
        return self._derived[generation]

    def downlink_keys(self):
        """[(generation, K_down, K_up)] that verify downlinks, newest first (empty: not provisioned)."""
        out = []
        newest = self.newest()
        for generation in (newest, self.confirmed):
            keys = self._keys(generation) if generation else None
            if keys is not None and (not out or out[0][0] != generation):
                out.append((generation, keys[0], keys[1]))
        return out

    def uplink_key(self):
        """K_up of the newest generation (HmacKey), None when not provisioned."""
        keys = self._keys(self.newest())
        return keys[1] if keys is not None else None

    def table_key(self, generation):
        """K_table of `generation` (HmacKey), None if this lock does not hold that secret."""
        keys = self._keys(generation) if generation else None
        return keys[2] if keys is not None else None

    def mobile_key(self, generation):
        """K_mobile of `generation` (HmacKey): checks phones' tickets; None if this lock does not hold it."""
        if generation not in self._mobile:
            secret = self._secret(generation)
            if secret is None:
                return None
            self._mobile[generation] = HmacKey(hmac_sha256(secret, LABEL_MOBILE))
        return self._mobile[generation]

    # --- rotation ----------------------------------------------------------------------------------------

    def rekey(self, generation, secret, table_gen):
        """Store the secret of a new generation. Returns None or a refusal reason; raises OSError (nothing
        changed). Repeating the newest rekey is answered as done."""
        if isinstance(generation, bool) or not isinstance(generation, int) or not 1 <= generation <= _MAX_GEN:
            return "bad_generation"
        if not isinstance(secret, (bytes, bytearray)) or len(secret) != SECRET_BYTES:
            return "bad_secret"
        if not self._entries:
            return "not_provisioned"
        newest = self.newest()
        if generation == newest:
            return None if self._secret(generation) == bytes(secret) else "rekey_conflict"
        if generation < newest:
            return "rekey_stale"
        # An older newest that never verified a downlink is superseded (unless the table still needs it).
        keep = [e for e in self._entries if e[0] in (self.confirmed, table_gen)]
        self._save(keep + [[generation, bytes(secret)]], self.confirmed)
        return None

    def on_verified(self, generation, table_gen):
        """A downlink verified under `generation`: once that is the newest, older keys stop verifying
        downlinks (their secrets stay only for the live table). Raises OSError."""
        if generation != self.newest() or generation == self.confirmed:
            return
        self._save(self._pruned(generation, table_gen), generation)

    def prune(self, table_gen):
        """Forget secrets nothing needs any more (after a snapshot of a newer generation). Raises OSError."""
        keep = self._pruned(self.confirmed, table_gen)
        if len(keep) != len(self._entries):
            self._save(keep, self.confirmed)

    def _pruned(self, confirmed, table_gen):
        newest = self.newest()
        return [e for e in self._entries if e[0] in (newest, confirmed, table_gen)]
