"""The kinds of webhook an endpoint can subscribe to, and which lock event types produce them."""

from typing import Literal

ENTRY_GRANTED = "entry_granted"
ENTRY_DENIED = "entry_denied"
DOOR_FORCED = "door_forced"
DOOR_HELD_OPEN = "door_held_open"
LOCK_OFFLINE = "lock_offline"
LOCK_ONLINE = "lock_online"
LOG_GAP = "log_gap"
COMMAND_RESULT = "command_result"
PERMISSION_CHANGE = "permission_change"
# Sent only by POST /webhooks/{id}/ping, to that endpoint, whatever it subscribed to.
PING = "ping"

WebhookKind = Literal[
    "entry_granted",
    "entry_denied",
    "door_forced",
    "door_held_open",
    "lock_offline",
    "lock_online",
    "log_gap",
    "command_result",
    "permission_change",
]
KINDS: tuple[str, ...] = WebhookKind.__args__  # type: ignore[attr-defined]

# Lock event type (shared_schema EVENT_TYPES) -> webhook kind. Other event types send nothing.
EVENT_KINDS = {
    "granted": ENTRY_GRANTED,
    "denied": ENTRY_DENIED,
    "tamper": DOOR_FORCED,
    "held_open": DOOR_HELD_OPEN,
}
