# The wire contract between a lock and the cloud, shared by both sides.
#
# Plain Python that runs unchanged on CPython 3.11 and MicroPython 1.2x (ESP32 and unix port):
# no typing, dataclasses, enum, hmac or functools. docs/PROTOCOL.md describes it for other clients.
#
#   hmac_sha256   HMAC-SHA256 on hashlib.sha256, constant-time compare
#   canonical     the canonical JSON bytes that MACs cover, and the streaming check that a BODY is canonical
#   prescan       the byte-level pre-scan of a BODY (limits before any parsing)
#   strictjson    the RFC 8259 grammar, which tells not_json from not_canonical on every interpreter
#   credentials   normalization and keyed hashing of card and phone credentials
#   schedule      UTC-offset tables, weekday/time windows, validity: shared access semantics
#   vocabulary    the contract's names and limits (event types, modes, roles, sizes), importable alone
#   payloads      the payload rules of every message kind (and the order of permission entries)
#   messages      keys, envelope, encode, the verifying decoder, freshness, rekey wrapping

PROTOCOL_VERSION = 2
