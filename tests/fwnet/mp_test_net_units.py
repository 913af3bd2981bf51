# micropython-test heapsize=160K
# heapsize 160K (144K is the least that passes): net.link brings net.mqtt, compiled from source in this heap.
# firmware/net pieces on their own, on the real MicroPython: remaining-length coding and its 4-byte bound,
# packet bytes against hand-built vectors (MQTT 3.1.1), the outgoing window, backoff bounds, CA parsing, DNS
# query/answer parsing with hostile answers. The end-to-end behaviour is in tests/fwnet/test_mqtt_*.py.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwenv  # noqa: F401 (the import path)

import binascii
import os

from net import mqttpacket as pk
from net.dns import DNSError, build_query, host_dns_server, parse_answer, parse_server
from net.inflight import InFlight
from net.link import Backoff, ipv4_literal
from net.tlsconf import TLSConfigError, ca_der


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as exc:
        return exc
    raise AssertionError("%s not raised" % exc_type.__name__)


def _decode_length(data):
    value, multiplier, at = 0, 1, 0
    while multiplier:
        value, multiplier = pk.length_step(value, multiplier, data[at])
        at += 1
    return value, at


def test_remaining_length_round_trips_at_every_boundary():
    buf = bytearray(4)
    for n, size in ((0, 1), (127, 1), (128, 2), (16383, 2), (16384, 3), (2097151, 3), (2097152, 4),
                    (268435455, 4)):
        end = pk.put_length(buf, 0, n)
        assert end == size, (n, end)
        assert _decode_length(buf) == (n, size)
    _raises(ValueError, pk.put_length, buf, 0, 268435456)
    assert bytes(buf[: pk.put_length(buf, 0, 321)]) == b"\xc1\x02"  # spec example style: 321 = 0x41 + 2*128


def test_a_fifth_length_byte_is_malformed():
    error = _raises(pk.MQTTError, _decode_length, b"\xff\xff\xff\xff\x01")
    assert error.code == pk.MALFORMED


def test_connect_packet_bytes():
    will = ("locks/lock-1/status", b"offline", 1, True)
    packet = pk.connect_packet("lock-1", "lock-1", "pw", 60, False, will)
    body = (b"\x00\x04MQTT\x04" + bytes([0x80 | 0x40 | 0x20 | 0x08 | 0x04]) + b"\x00\x3c"
            + b"\x00\x06lock-1" + b"\x00\x13locks/lock-1/status" + b"\x00\x07offline" + b"\x00\x06lock-1"
            + b"\x00\x02pw")
    assert bytes(packet) == b"\x10" + bytes([len(body)]) + body
    anonymous = pk.connect_packet("c", None, None, 0, True, None)
    assert bytes(anonymous) == b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x01c"


def test_publish_subscribe_and_puback_bytes():
    buf = bytearray(pk.PUBLISH_HEADER_ROOM)
    n = pk.publish_header(buf, b"a/b", 5, 1, True, True, 0x1234)
    assert bytes(buf[:n]) == b"\x3b" + bytes([2 + 3 + 2 + 5]) + b"\x00\x03a/b\x12\x34"
    n = pk.publish_header(buf, b"a/b", 4096, 0, False, False, 0)
    assert bytes(buf[:n]) == b"\x30" + b"\x85\x20" + b"\x00\x03a/b"  # 4101 = 0x05 + 32*128
    n = pk.subscribe_packet(buf, 7, b"locks/x/down", 1)
    assert bytes(buf[:n]) == b"\x82\x11\x00\x07\x00\x0clocks/x/down\x01"
    ack = bytearray(4)
    pk.puback_packet(ack, 0xBEEF)
    assert bytes(ack) == b"\x40\x02\xbe\xef"


def test_connack_codes_become_named_errors():
    codes = [pk.connack_error(rc).code for rc in (1, 2, 3, 4, 5, 6, 255)]
    assert codes == [pk.UNACCEPTABLE_PROTOCOL, pk.IDENTIFIER_REJECTED, pk.SERVER_UNAVAILABLE,
                     pk.BAD_CREDENTIALS, pk.NOT_AUTHORISED, pk.CONNACK_REFUSED, pk.CONNACK_REFUSED]
    assert "CONNACK 4" in str(pk.connack_error(4)) and "broker_password" in str(pk.connack_error(4))


def test_window_keeps_order_and_resends_only_unacknowledged_qos1():
    window = InFlight(3)
    for pid, payload in ((1, b"a"), (2, b"b"), (3, b"c")):
        window.put(window.free_slot(), pid, b"t", payload, 1, False)
    assert window.free_slot() == -1 and window.pending() == 3
    sent = []
    while window.next_queued() >= 0:
        slot = window.next_queued()
        assert window.begin_send(slot) is False  # first time: no DUP
        sent.append(window.payload[slot])
    assert sent == [b"a", b"b", b"c"]
    assert window.acked(2) and not window.acked(2) and not window.acked(99)
    assert window.connection_lost() == 0 and window.pending() == 2
    slot = window.next_queued()
    assert window.payload[slot] == b"a" and window.begin_send(slot) is True  # resent with DUP
    assert window.payload[window.next_queued()] == b"c"


def test_window_drops_qos0_on_connection_loss_and_frees_it_once_written():
    window = InFlight(2)
    window.put(0, 0, b"t", b"zero", 0, False)
    window.put(1, 5, b"t", b"one", 1, True)
    assert window.retain(1) and not window.retain(0)
    assert window.connection_lost() == 1 and window.pending() == 1
    window.put(0, 0, b"t", b"zero-again", 0, False)
    slot = window.next_queued()
    assert window.payload[slot] == b"one"  # accepted first, sent first
    window.begin_send(slot)
    slot = window.next_queued()
    window.begin_send(slot)
    assert window.written(slot) and window.pending() == 1  # QoS 0 done once written


def test_backoff_doubles_within_jitter_bounds_and_resets():
    backoff = Backoff(100, 1000)
    for ceiling in (100, 200, 400, 800, 1000, 1000, 1000):
        delay = backoff.next_ms()
        assert ceiling // 2 <= delay <= ceiling, (ceiling, delay)
    backoff.reset()
    assert 50 <= backoff.next_ms() <= 100


def test_addresses():
    assert ipv4_literal("127.0.0.1") and ipv4_literal("192.168.10.254")
    for text in ("256.0.0.1", "1.2.3", "a.b.c.d", "1.2.3.4.5", "", "1..2.3", "broker.example"):
        assert not ipv4_literal(text), text
    assert parse_server("10.0.0.1") == ("10.0.0.1", 53)
    assert parse_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    for text in ("dns.example", None, "1.2.3.4:x", ""):
        assert parse_server(text) is None, text


def test_host_dns_server_from_resolv_conf():
    path = "/tmp/fwnet_resolv_%d" % os.urandom(1)[0]
    with open(path, "w") as f:
        f.write("# comment\nsearch example\nnameserver fe80::1\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n")
    try:
        assert host_dns_server(path) == ("10.0.0.53", 53)
    finally:
        os.remove(path)
    assert host_dns_server("/nonexistent/resolv.conf") is None


CERT_DER_HEAD = b"\x30\x82\x01\x5a" + bytes(range(80))


def test_ca_from_der_and_pem():
    assert ca_der(CERT_DER_HEAD) == CERT_DER_HEAD
    pem = (b"junk before\n-----BEGIN CERTIFICATE-----\n" + binascii.b2a_base64(CERT_DER_HEAD)
           + b"-----END CERTIFICATE-----\n")
    assert ca_der(pem) == CERT_DER_HEAD
    for bad in (b"", b"hello world" * 10, b"-----BEGIN CERTIFICATE-----\nAAAA\n", b"\x30\x05" + bytes(80)):
        _raises(TLSConfigError, ca_der, bad)


def _answer(ident, rcode=0, answers=(), flags=0x81):
    msg = bytearray(bytes([ident >> 8, ident & 0xFF, flags, 0x80 | rcode, 0, 1, 0, len(answers), 0, 0, 0, 0]))
    msg += b"\x06broker\x04test\x00\x00\x01\x00\x01"
    for rtype, rdata in answers:
        msg += b"\xc0\x0c" + bytes([0, rtype, 0, 1, 0, 0, 0x0e, 0x10, 0, len(rdata)]) + rdata
    return msg


def test_dns_query_bytes():
    buf = bytearray(512)
    n = build_query(buf, 0xABCD, "broker.test")
    header = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # id, RD, one question
    assert bytes(buf[:n]) == header + b"\x06broker\x04test\x00\x00\x01\x00\x01"
    _raises(DNSError, build_query, buf, 1, "a..b")
    _raises(DNSError, build_query, buf, 1, "x" * 64 + ".example")


def test_dns_answer_parsing():
    cname_then_a = _answer(7, answers=((5, b"\x03cdn\xc0\x0c"), (1, b"\x0a\x00\x00\x2a")))
    assert parse_answer(cname_then_a, len(cname_then_a), 7) == ("10.0.0.42", 3600)
    assert parse_answer(cname_then_a, len(cname_then_a), 8) is None  # another query's answer: ignored
    no_such_name = _answer(7, rcode=3)
    assert _raises(DNSError, parse_answer, no_such_name, len(no_such_name), 7).final is True
    empty = _answer(7)
    assert not _raises(DNSError, parse_answer, empty, len(empty), 7).final


def _parses_or_refuses(msg, end, ident):
    # Either an address or a DNSError: never an IndexError or a loop, whatever the bytes.
    try:
        return parse_answer(msg, end, ident)
    except DNSError:
        return "refused"


def test_dns_hostile_answers_raise_dns_errors_only():
    good = _answer(9, answers=((1, b"\x01\x02\x03\x04"),))
    assert _parses_or_refuses(good, len(good), 9) == ("1.2.3.4", 3600)
    for end in range(12, len(good)):  # every truncation
        assert _parses_or_refuses(good, end, 9) == "refused", end
    for at in range(12, len(good)):  # every byte set to a compression pointer or a huge label
        for value in (0xC0, 0x3F, 0xFF):
            bent = bytearray(good)
            bent[at] = value
            _parses_or_refuses(bent, len(bent), 9)
    many = bytearray(good)
    many[6], many[7] = 0xFF, 0xFF  # 65535 answers claimed, one present
    assert _parses_or_refuses(many, len(many), 9) == ("1.2.3.4", 3600)
    truncated_flag = _answer(9, flags=0x83)
    _raises(DNSError, parse_answer, truncated_flag, len(truncated_flag), 9)
    not_an_answer = _answer(9, flags=0x01)
    _raises(DNSError, parse_answer, not_an_answer, len(not_an_answer), 9)
