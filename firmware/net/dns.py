# The broker's address without blocking the event loop. socket.getaddrinfo() blocks the whole interpreter
# (seconds when the DNS server does not answer), and the tap path runs on the same loop; so a host name is
# looked up here with one DNS query over a non-blocking UDP socket (RFC 1035, type A), awaited like any
# other I/O. The answer is cached for its TTL (clamped). Imported only when broker_host is a name (link.py
# passes IPv4 literals and "localhost" straight through).
import asyncio
import errno
import os
import socket
import time

from micropython import const

from net.mqttpacket import MQTTError

MAX_NAME = const(253)
_MSG_BYTES = const(512)  # classic DNS over UDP: answers are at most 512 bytes
_MAX_ANSWERS = const(16)
_TYPE_A = const(1)
_CLASS_IN = const(1)
_POLL_MS = const(20)
MIN_TTL_S = const(30)
MAX_TTL_S = const(3600)


class DNSError(MQTTError):
    """Code dns_failed; str() says what went wrong with the lookup. `final`: the server's considered
    answer (no such name...), so asking again changes nothing."""

    def __init__(self, message, final=False):
        super().__init__("dns_failed", message)
        self.final = final


def build_query(buf, ident, name):
    """A standard recursive query for the A record of name into buf; returns its length."""
    encoded = name.encode() if isinstance(name, str) else name
    if not 1 <= len(encoded) <= MAX_NAME:
        raise DNSError("host name must be 1..%d characters" % MAX_NAME)
    buf[0:12] = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # RD=1, one question
    buf[0] = ident >> 8
    buf[1] = ident & 0xFF
    at = 12
    for label in encoded.split(b"."):
        if not 1 <= len(label) <= 63:
            raise DNSError("host name has an empty or too long label")
        buf[at] = len(label)
        buf[at + 1 : at + 1 + len(label)] = label
        at += 1 + len(label)
    buf[at : at + 5] = b"\x00\x00\x01\x00\x01"  # root, QTYPE A, QCLASS IN
    return at + 5


def _skip_name(msg, at, end):
    # Labels up to a zero byte, or a compression pointer (two bytes) that ends the name.
    for _ in range(128):
        if at >= end:
            break
        length = msg[at]
        if length == 0:
            return at + 1
        if length & 0xC0 == 0xC0:
            return at + 2
        if length & 0xC0:
            break
        at += 1 + length
    raise DNSError("malformed name in the answer")


def parse_answer(msg, end, ident):
    """(IPv4 address text, TTL seconds) from a response of `end` bytes; None when it answers another
    query (another id); DNSError when it is an unusable answer. Reads nothing beyond `end`."""
    if end < 12 or (msg[0] << 8 | msg[1]) != ident:
        return None
    if not msg[2] & 0x80 or msg[2] & 0x02:
        raise DNSError("not an answer, or truncated")
    rcode = msg[3] & 0x0F
    if rcode:
        raise DNSError("server answered rcode %d%s" % (rcode, " (no such name)" if rcode == 3 else ""), True)
    questions = msg[4] << 8 | msg[5]
    answers = min(msg[6] << 8 | msg[7], _MAX_ANSWERS)
    at = 12
    for _ in range(questions):
        at = _skip_name(msg, at, end) + 4
    for _ in range(answers):
        at = _skip_name(msg, at, end)
        if at + 10 > end:
            break
        rtype = msg[at] << 8 | msg[at + 1]
        rclass = msg[at + 2] << 8 | msg[at + 3]
        ttl = msg[at + 4] << 24 | msg[at + 5] << 16 | msg[at + 6] << 8 | msg[at + 7]
        size = msg[at + 8] << 8 | msg[at + 9]
        at += 10
        if at + size > end:
            break
        if rtype == _TYPE_A and rclass == _CLASS_IN and size == 4:
            return "%d.%d.%d.%d" % (msg[at], msg[at + 1], msg[at + 2], msg[at + 3]), ttl
        at += size
    raise DNSError("no IPv4 address in the answer")


def parse_server(text):
    """"1.2.3.4" or "1.2.3.4:5353" -> (ip, port); None when text is not an IPv4 server address."""
    from net.link import ipv4_literal

    if not isinstance(text, str) or not text:
        return None
    host, _, port = text.partition(":")
    if not ipv4_literal(host) or (port and not port.isdigit()):
        return None
    return host, int(port) if port else 53


def host_dns_server(path="/etc/resolv.conf"):
    """The first IPv4 nameserver of a unix host as (ip, 53), or None (no such file on a board)."""
    try:
        with open(path) as f:
            for line in f:
                words = line.split()
                if len(words) >= 2 and words[0] == "nameserver":
                    server = parse_server(words[1])
                    if server is not None:
                        return server
    except OSError:
        pass
    return None


class Resolver:
    """Host name -> IPv4 text, one outstanding query at a time, cached for the answer's TTL."""

    def __init__(self, server=None, timeout_ms=2000, tries=2):
        self.server = server  # (ip, port) or None: then the blocking getaddrinfo is the only way
        self.timeout_ms = timeout_ms
        self.tries = tries
        self._buf = bytearray(_MSG_BYTES)
        self._name = None
        self._address = None
        self._expires = 0

    def forget(self):
        """Drop the cached answer (the address stopped working)."""
        self._address = None

    async def resolve(self, host):
        if self._address is not None and host == self._name and time.ticks_diff(self._expires,
                                                                                 time.ticks_ms()) > 0:
            return self._address
        if self.server is None:
            address, ttl = _blocking_lookup(host), MIN_TTL_S
        else:
            address, ttl = await self._query(host)
        self._name, self._address = host, address
        self._expires = time.ticks_add(time.ticks_ms(), min(max(ttl, MIN_TTL_S), MAX_TTL_S) * 1000)
        return address

    async def _query(self, host):
        server = socket.getaddrinfo(self.server[0], self.server[1])[0][-1]  # a literal: no lookup
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            last = "no answer from %s" % self.server[0]
            for _ in range(self.tries):
                ident = os.urandom(1)[0] << 8 | os.urandom(1)[0]
                sock.sendto(memoryview(self._buf)[: build_query(self._buf, ident, host)], server)
                try:
                    found = await self._answer(sock, ident)
                except DNSError as exc:
                    last = str(exc)
                    if exc.final:
                        break
                    continue
                if found is not None:
                    return found
            raise DNSError("%s: %s" % (host, last))
        finally:
            sock.close()

    async def _answer(self, sock, ident):
        # One datagram per recv() (an asyncio stream would concatenate queued datagrams into one read), so
        # the socket is polled: a lookup is rare and short. Datagrams with another id (late answers to an
        # earlier try, spoofing attempts) are skipped. None when nothing usable came in time.
        deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)
        while time.ticks_diff(deadline, time.ticks_ms()) > 0:
            try:
                data = sock.recv(_MSG_BYTES)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.ETIMEDOUT):
                    raise DNSError("%s answered %s" % (self.server[0], exc))  # e.g. ICMP port unreachable
                await asyncio.sleep_ms(_POLL_MS)
                continue
            found = parse_answer(data, len(data), ident)
            if found is not None:
                return found
        return None


def _blocking_lookup(host):
    # Only when no DNS server is known (no DHCP answer, no resolv.conf): blocks the loop, documented.
    try:
        address = socket.getaddrinfo(host, 0, socket.AF_INET, socket.SOCK_STREAM)[0][-1]
    except (OSError, IndexError) as exc:
        raise DNSError("%s: %s" % (host, exc))
    if isinstance(address, tuple):  # the ESP32 port: (ip, port)
        return address[0]
    return "%d.%d.%d.%d" % (address[4], address[5], address[6], address[7])  # unix port: a sockaddr_in
