# The contract's names and limits, without the message rules: what the lock's core needs at run time.
#
# Kept apart from messages.py because importing the message table costs the lock about 17 KB of heap;
# the tap path and the event log need only these constants. messages.py re-exports every one of them.

# An ESP32 receives into a fixed buffer; 4 KiB keeps a decoded message well under 20 KiB of heap.
MAX_MESSAGE_BYTES = 4096
MAX_COUNTER = (1 << 53) - 1
MAX_COMMAND_LIFETIME_S = 600
# Protocol v2 (docs/PROTOCOL.md): every downlink expires within this many seconds of being issued.
MAX_DOWNLINK_LIFETIME_S = 600
# A "time" answer must arrive within this many seconds of the hello whose nonce it echoes.
TIME_CHALLENGE_TTL_S = 30
NONCE_BYTES = 16
MAC_HEX_CHARS = 64
# Credential ids and table hashes on the wire: 16 bytes as lowercase hex (credentials.HASH_HEX_CHARS;
# repeated here so that the message rules do not pull the credential code into the heap).
CRED_HEX_CHARS = 32
MIN_MESSAGE_BYTES = MAC_HEX_CHARS + 2
# Byte-level pre-scan of a message body, applied after the MAC and before any parsing.
MAX_DEPTH = 6
MAX_NUMBER_DIGITS = 16
MAX_STRING_CHARS = 64
MAX_VALUES = 1024
# One credential may have several entries on a lock (the exact union of its grants): any may open.
MAX_ENTRIES_PER_CRED = 8
MAX_DEVICE_ID_CHARS = 32
# Sized so that the worst-case entry (8 windows, full validity) still fits: see test_vectors.
MAX_ENTRIES_PER_CHUNK = 16
MAX_EVENTS_PER_BATCH = 32
MAX_DELETES_PER_DELTA = 64
# A snapshot has at most this many chunks (1.6 million entries at 16 per chunk).
MAX_CHUNKS = 100000
# cmd "dur": an unlock that re-locks by itself after at most this many seconds.
MAX_COMMAND_DURATION_S = 3600

UP = "up"  # lock -> cloud
DOWN = "down"  # cloud -> lock
STATUS = "status"  # retained online/offline of a lock, unsigned (topic only, not a direction)

ROLE_NORMAL = 0
ROLE_ADMIN = 1
MODES = ("normal", "passage", "lockdown")
COMMAND_ACTIONS = ("unlock", "lock")
BOOT_REASONS = ("power_on", "watchdog", "soft", "deep_sleep", "hard", "unknown")
TIME_SOURCES = ("none", "ntp", "cloud", "rtc")
STORE_STATUSES = ("ok", "missing", "corrupt")
DOOR_STATES = ("open", "closed", "unknown")
BOLT_STATES = ("locked", "unlocked", "moving", "jammed")
# Append only: the lock's event log stores a type as its index in this tuple, so reordering or removing
# one would change the meaning of records already on flash.
EVENT_TYPES = (
    "granted", "denied", "door_open", "door_closed", "held_open", "exit_request",
    "remote_unlock", "remote_lock", "auto_lock", "jammed", "boot", "mode", "tamper",
)
