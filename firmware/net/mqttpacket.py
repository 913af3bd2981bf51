# MQTT 3.1.1 packet layout: what the client writes (CONNECT, PUBLISH, SUBSCRIBE, PUBACK headers) and the
# CONNACK/SUBACK codes it must understand. Pure functions over bytearrays: no I/O, nothing asyncio.
# Spec: OASIS MQTT Version 3.1.1 (2014), sections 2 (fixed header, remaining length) and 3 (packets).
from micropython import const

# The largest message the protocol carries (docs/PROTOCOL.md; shared_schema.vocabulary.MAX_MESSAGE_BYTES,
# kept equal by tests/fwnet/test_net_static.py): a bigger PUBLISH is skipped, never buffered.
MAX_MESSAGE_BYTES = const(4096)
# Topics here are `locks/<device id up to 32>/<up|down|status>`; anything near this is someone else's.
MAX_TOPIC_BYTES = const(128)
# Remaining length of the largest PUBLISH accepted: topic length (2) + topic + packet id (2) + payload.
MAX_PUBLISH_REMAINING = const(4228)  # 2 + MAX_TOPIC_BYTES + 2 + MAX_MESSAGE_BYTES
# Fixed header (1) + remaining length (<= 4) + topic length (2) + topic + packet id (2): all but the payload.
PUBLISH_HEADER_ROOM = const(137)  # 1 + 4 + 2 + MAX_TOPIC_BYTES + 2
_MAX_REMAINING_LENGTH = const(268435455)  # four length bytes of seven bits

# Packet types the client reads (what it writes is spelled out in the builders below).
CONNACK = const(2)
PUBLISH = const(3)
PUBACK = const(4)
SUBACK = const(9)
UNSUBACK = const(11)
PINGRESP = const(13)

SUBACK_FAILURE = const(0x80)
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"

# Error codes (MQTTError.code): stable strings a caller can branch on and a person can read.
UNACCEPTABLE_PROTOCOL = "unacceptable_protocol"
IDENTIFIER_REJECTED = "identifier_rejected"
SERVER_UNAVAILABLE = "server_unavailable"
BAD_CREDENTIALS = "bad_credentials"
NOT_AUTHORISED = "not_authorised"
CONNACK_REFUSED = "connack_refused"
SUBSCRIBE_REFUSED = "subscribe_refused"
SUBSCRIBE_TIMEOUT = "subscribe_timeout"
CONNECT_TIMEOUT = "connect_timeout"
KEEPALIVE_TIMEOUT = "keepalive_timeout"
CONNECTION_LOST = "connection_lost"
MALFORMED = "malformed"
NOT_CONNECTED = "not_connected"

# CONNACK return code -> (error code, what it means for whoever reads the console).
_CONNACK = (
    None,
    (UNACCEPTABLE_PROTOCOL, "the broker does not speak MQTT 3.1.1"),
    (IDENTIFIER_REJECTED, "the broker rejected the client id"),
    (SERVER_UNAVAILABLE, "the broker is unavailable"),
    (BAD_CREDENTIALS, "the broker refused the user name or password (check broker_user/broker_password)"),
    # Mosquitto answers a wrong password with this code too, not with 4.
    (NOT_AUTHORISED, "the broker says this client is not authorised (check broker_user/broker_password)"),
)


class MQTTError(Exception):
    """A refusal or a broken connection. `code` is one of the constants above; str() explains it."""

    def __init__(self, code, detail=""):
        super().__init__(code + (": " + detail if detail else ""))
        self.code = code


def connack_error(return_code):
    """The MQTTError for a CONNACK return code other than 0."""
    if 0 < return_code < len(_CONNACK):
        code, text = _CONNACK[return_code]
        return MQTTError(code, "%s (CONNACK %d)" % (text, return_code))
    return MQTTError(CONNACK_REFUSED, "unknown CONNACK return code %d" % return_code)


def as_bytes(text):
    """str -> UTF-8 bytes; bytes-like unchanged."""
    return text.encode() if isinstance(text, str) else text


def put_length(buf, offset, length):
    """Write the remaining-length field at buf[offset]; returns the offset after it."""
    if not 0 <= length <= _MAX_REMAINING_LENGTH:
        raise ValueError("remaining length out of range")
    while True:
        byte = length & 0x7F
        length >>= 7
        buf[offset] = byte | (0x80 if length else 0)
        offset += 1
        if not length:
            return offset


def length_step(value, multiplier, byte):
    """One step of the remaining-length decoder: (value, next multiplier or 0 when done).

    Raises MQTTError(MALFORMED) on a fifth length byte: the field is at most four bytes, so a decoder that
    trusts continuation bits would read (and wait for) bytes that are not a length at all.
    """
    value += (byte & 0x7F) * multiplier
    if not byte & 0x80:
        return value, 0
    if multiplier == 128 * 128 * 128:
        raise MQTTError(MALFORMED, "remaining length longer than 4 bytes")
    return value, multiplier * 128


def _put_field(buf, offset, data):
    n = len(data)
    buf[offset] = n >> 8
    buf[offset + 1] = n & 0xFF
    buf[offset + 2 : offset + 2 + n] = data
    return offset + 2 + n


def connect_packet(client_id, user, password, keepalive_s, clean_session, will):
    """The whole CONNECT packet (built once per client: it holds the password, never log it).

    will: None or (topic, payload, qos, retain).
    """
    fields = [as_bytes(client_id)]
    if not 1 <= len(fields[0]) <= 65535 or not 0 <= keepalive_s <= 65535:
        raise ValueError("client id 1..65535 bytes, keepalive_s 0..65535")
    flags = 0x02 if clean_session else 0
    if will is not None:
        topic, payload, qos, retain = will
        fields.append(as_bytes(topic))
        fields.append(as_bytes(payload))
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
    if user is not None:
        fields.append(as_bytes(user))
        flags |= 0x80
        if password is not None:
            fields.append(as_bytes(password))
            flags |= 0x40
    remaining = 10 + sum(2 + len(field) for field in fields)
    size = 1 + (remaining > 127) + (remaining > 16383) + (remaining > 2097151)  # of the length field
    packet = bytearray(1 + size + remaining)
    packet[0] = 0x10  # CONNECT
    at = put_length(packet, 1, remaining)
    at = _put_field(packet, at, b"MQTT")
    packet[at] = 4  # protocol level: 3.1.1
    packet[at + 1] = flags
    packet[at + 2] = keepalive_s >> 8
    packet[at + 3] = keepalive_s & 0xFF
    at += 4
    for field in fields:
        at = _put_field(packet, at, field)
    return packet


def publish_header(buf, topic, payload_len, qos, retain, dup, pid):
    """PUBLISH fixed and variable header into buf (PUBLISH_HEADER_ROOM bytes); returns its length.
    The payload follows it on the wire unchanged."""
    remaining = 2 + len(topic) + (2 if qos else 0) + payload_len
    buf[0] = 0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)  # PUBLISH
    at = _put_field(buf, put_length(buf, 1, remaining), topic)
    if qos:
        buf[at] = pid >> 8
        buf[at + 1] = pid & 0xFF
        at += 2
    return at


def subscribe_packet(buf, pid, topic, qos):
    """SUBSCRIBE for one topic filter into buf; returns its length."""
    remaining = 2 + 2 + len(topic) + 1
    buf[0] = 0x82  # SUBSCRIBE, reserved flags 0010 (spec 3.8.1)
    at = put_length(buf, 1, remaining)
    buf[at] = pid >> 8
    buf[at + 1] = pid & 0xFF
    at = _put_field(buf, at + 2, topic)
    buf[at] = qos
    return at + 1


def puback_packet(buf, pid):
    """PUBACK into a 4-byte buf."""
    buf[0] = 0x40  # PUBACK
    buf[1] = 2
    buf[2] = pid >> 8
    buf[3] = pid & 0xFF
