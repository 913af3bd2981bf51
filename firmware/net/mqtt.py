# MQTT 3.1.1 client on asyncio streams (plain TCP or TLS: the caller opens the stream, link.py does).
#
#   client = MQTTClient("front-door-1", user=..., password=..., keepalive_s=60, clean_session=False,
#                       will=("locks/front-door-1/status", b"offline", 1, True),
#                       birth=("locks/front-door-1/status", b"online", 1, True), handler=on_message)
#   session_present = await client.connect(reader, writer)   # CONNECT/CONNACK; MQTTError on refusal
#   task = asyncio.create_task(client.serve())               # runs until the connection ends
#   await client.subscribe("locks/front-door-1/down", 1)     # SUBACK 0x80 -> MQTTError(subscribe_refused)
#   await client.publish(topic, payload, qos=1)              # into the window; sent now or after reconnect
#   await task                                               # raises MQTTError(code) saying why it ended
#
# Receiving: ONE preallocated buffer of MAX_PUBLISH_REMAINING bytes. handler(topic, payload) is a coroutine
# given memoryviews into that buffer, valid only until it returns (copy what must outlive the call); nothing
# else is read meanwhile, and a QoS 1 message is acknowledged (PUBACK) only after the handler returned. A
# packet bigger than the buffer is read and dropped in buffer-sized chunks (counted in `oversized`, and
# acknowledged so that the broker does not send it again), without allocating.
#
# Only the connection's own tasks (receive, transmit, keepalive) touch the socket: publish() and
# subscribe() queue work for them and wait on events. When the connection ends those tasks are cancelled
# together and the socket closed, so no caller is ever left waiting on a dead socket.
import asyncio
import time

from micropython import const

from net import mqttpacket as pk
from net.inflight import InFlight

CONNECT_TIMEOUT_MS = const(10000)
SUBSCRIBE_TIMEOUT_MS = const(10000)
DISCONNECTED = "disconnected"  # serve() ended because disconnect() asked for it


class MQTTClient:
    def __init__(self, client_id, user=None, password=None, keepalive_s=60, clean_session=True, will=None,
                 birth=None, max_inflight=4, handler=None):
        for name, message in (("will", will), ("birth", birth)):
            if message is not None and (message[2] not in (0, 1) or len(message) != 4):
                raise ValueError(name + " must be (topic, payload, qos 0 or 1, retain)")
        self._connect_packet = pk.connect_packet(client_id, user, password, keepalive_s, clean_session, will)
        self.keepalive_ms = keepalive_s * 1000
        self.will = will
        self.birth = birth
        self.handler = handler
        self.rx = bytearray(pk.MAX_PUBLISH_REMAINING)
        self._rx = memoryview(self.rx)
        self._head = bytearray(2)
        self._head_mv = memoryview(self._head)
        self._tx = bytearray(pk.PUBLISH_HEADER_ROOM)
        self._tx_mv = memoryview(self._tx)
        self._ack = bytearray(4)
        self._window = InFlight(max_inflight)
        self._next_pid = 0
        self._reader = None
        self._writer = None
        self._write_lock = asyncio.Lock()
        self._tx_wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._ended = asyncio.Event()
        self._sub_done = asyncio.Event()
        self._sub_topic = None
        self._sub_qos = 1
        self._sub_pid = 0
        self._sub_sent = False
        self._sub_result = None
        self._closing = False
        self._send_will = False
        self._ping_due = False
        self._end_code = None
        self._end_detail = ""
        self._in_handler = False
        self._last_rx = 0
        self._last_tx = 0
        self._ping_at = None  # ticks of the PINGREQ still unanswered, None when none is
        self.connected = False
        # Counters (never reset): what was dropped or refused, for status reports.
        self.received = 0
        self.oversized = 0
        self.dropped_qos0 = 0
        self.handler_errors = 0
        self.resent = 0

    # --- API --------------------------------------------------------------------------------------------

    async def connect(self, reader, writer, timeout_ms=CONNECT_TIMEOUT_MS):
        """CONNECT over an open stream and wait for CONNACK. Returns the broker's session-present flag.

        Raises MQTTError (bad_credentials, not_authorised, connect_timeout, malformed, ...) after closing the
        stream. Any other exception from the stream (a TLS ValueError, an OSError) also closes it and is
        raised unchanged for the caller to name.
        """
        if self.connected:
            raise pk.MQTTError(pk.MALFORMED, "connect() while connected")
        self._reader, self._writer = reader, writer
        try:
            session_present = await asyncio.wait_for_ms(self._handshake(), timeout_ms)
        except asyncio.TimeoutError:
            await self._close()
            raise pk.MQTTError(pk.CONNECT_TIMEOUT, "no CONNACK within %d ms" % timeout_ms)
        except BaseException:  # noqa: B036 - close on anything (cancellation included), then pass it on
            await self._close()
            raise
        self._end_code = None
        self._ended.clear()
        self._closing = False
        self.connected = True  # serve() must follow: it runs the tasks that do the work queued from now on
        return session_present

    async def serve(self):
        """Run the session connect() opened until it ends: returns after disconnect(), raises MQTTError
        otherwise (the code says why: keepalive_timeout, connection_lost, malformed, ...)."""
        if not self.connected:
            raise pk.MQTTError(pk.NOT_CONNECTED, "serve() before connect()")
        now = time.ticks_ms()
        self._last_rx = self._last_tx = now
        self._ping_at = None
        self._ping_due = False
        tasks = (
            asyncio.create_task(self._guard(self._receive())),
            asyncio.create_task(self._guard(self._transmit())),
            asyncio.create_task(self._guard(self._keepalive())),
        )
        try:
            await self._ended.wait()
        finally:
            self.connected = False
            for task in tasks:
                task.cancel()  # also takes them off the socket's poll entry before the close below
            await self._close()
            self.dropped_qos0 += self._window.connection_lost()
            self._sub_result = None  # a subscribe() still waiting learns that the connection ended
            self._sub_done.set()
            self._slot_freed.set()
        if self._end_code != DISCONNECTED:
            raise pk.MQTTError(self._end_code or pk.CONNECTION_LOST, self._end_detail)

    async def subscribe(self, topic, qos=1, timeout_ms=SUBSCRIBE_TIMEOUT_MS):
        """Subscribe to one topic filter while serving; returns the granted QoS.
        MQTTError: subscribe_refused (SUBACK 0x80, e.g. the broker's ACL), subscribe_timeout,
        not_connected."""
        topic = pk.as_bytes(topic)
        if qos not in (0, 1) or not 1 <= len(topic) <= pk.MAX_TOPIC_BYTES:
            raise ValueError("subscribe: qos 0 or 1 and a topic of 1..%d bytes" % pk.MAX_TOPIC_BYTES)
        if not self.connected:
            raise pk.MQTTError(pk.NOT_CONNECTED, "subscribe")
        if self._sub_topic is not None:
            raise pk.MQTTError(pk.MALFORMED, "one subscribe at a time")
        self._sub_topic, self._sub_qos, self._sub_pid = topic, qos, self._new_pid()
        self._sub_sent = False
        self._sub_result = -1
        self._sub_done.clear()
        self._tx_wake.set()
        try:
            await asyncio.wait_for_ms(self._sub_done.wait(), timeout_ms)
        except asyncio.TimeoutError:
            raise pk.MQTTError(pk.SUBSCRIBE_TIMEOUT, "no SUBACK for %s" % topic.decode())
        finally:
            self._sub_topic = None
        result = self._sub_result
        if result is None or result < 0:  # the connection ended first: say why it did
            raise pk.MQTTError(self._end_code or pk.CONNECTION_LOST, self._end_detail or "during subscribe")
        if result == pk.SUBACK_FAILURE:
            raise pk.MQTTError(pk.SUBSCRIBE_REFUSED, "the broker refused %s (SUBACK 0x80: not allowed by its "
                               "ACL for this user)" % topic.decode())
        return result

    async def publish(self, topic, payload, qos=0, retain=False):
        """Queue a PUBLISH. QoS 1: waits for a free window slot (back-pressure), keeps it across reconnects
        until PUBACK; True. QoS 0: sent if connected, else dropped and counted (False).
        payload: bytes-like, kept by reference until done (do not modify it)."""
        topic = pk.as_bytes(topic)
        payload = pk.as_bytes(payload)
        if qos not in (0, 1):
            raise ValueError("publish: qos must be 0 or 1")
        if not 1 <= len(topic) <= pk.MAX_TOPIC_BYTES or len(payload) > pk.MAX_MESSAGE_BYTES:
            raise ValueError("publish: topic 1..%d bytes, payload at most %d bytes"
                             % (pk.MAX_TOPIC_BYTES, pk.MAX_MESSAGE_BYTES))
        while True:
            if qos == 0 and not self.connected:
                self.dropped_qos0 += 1
                return False
            slot = self._window.free_slot()
            if slot >= 0:
                break
            self._slot_freed.clear()
            await self._slot_freed.wait()
        self._window.put(slot, self._new_pid() if qos else 0, topic, payload, qos, retain)
        self._tx_wake.set()
        return True

    def pending(self):
        """Messages accepted by publish() and not done yet (QoS 1: not acknowledged)."""
        return self._window.pending()

    async def flush(self, timeout_ms):
        """Wait until every accepted message is done; False on timeout (they stay queued)."""
        deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        while self._window.pending():
            left = time.ticks_diff(deadline, time.ticks_ms())
            if left <= 0:
                return False
            self._slot_freed.clear()
            try:
                await asyncio.wait_for_ms(self._slot_freed.wait(), left)
            except asyncio.TimeoutError:
                pass
        return True

    async def disconnect(self, send_will=False, timeout_ms=2000):
        """End the session cleanly: DISCONNECT (the broker then discards the will). send_will=True first
        publishes the will message itself (QoS 0, in order before DISCONNECT on the same stream)."""
        if not self.connected:
            return
        self._closing = True
        self._send_will = send_will
        self._tx_wake.set()
        try:
            await asyncio.wait_for_ms(self._ended.wait(), timeout_ms)
        except asyncio.TimeoutError:
            self._end(DISCONNECTED, "")  # stuck writing: serve() closes the socket anyway

    # --- connection tasks --------------------------------------------------------------------------------

    async def _handshake(self):
        await self._write(self._connect_packet)
        ptype, flags, length = await self._read_header()
        if ptype != pk.CONNACK or flags or length != 2:
            raise pk.MQTTError(pk.MALFORMED, "expected CONNACK, got packet type %d length %d"
                               % (ptype, length))
        await self._fill(self._rx[:2])
        if self.rx[1]:
            raise pk.connack_error(self.rx[1])
        return bool(self.rx[0] & 1)

    async def _guard(self, coro):
        # Whichever connection task ends first (error or a clean DISCONNECT) ends the connection.
        try:
            await coro
            self._end(DISCONNECTED, "")
        except pk.MQTTError as exc:
            self._end(exc.code, str(exc))
        except (OSError, ValueError, EOFError) as exc:  # socket errors; TLS errors are ValueError/OSError
            self._end(pk.CONNECTION_LOST, "%s %s" % (type(exc).__name__, exc))

    def _end(self, code, detail):
        if self._end_code is None:
            self._end_code, self._end_detail = code, detail
        self._ended.set()

    async def _receive(self):
        while True:
            ptype, flags, length = await self._read_header()
            self._last_rx = time.ticks_ms()
            self._ping_at = None  # any packet shows the broker is there
            if ptype == pk.PUBLISH:
                await self._on_publish(flags, length)
            elif ptype == pk.PUBACK and not flags and length == 2:
                await self._fill(self._rx[:2])
                if self._window.acked(self.rx[0] << 8 | self.rx[1]):
                    self._slot_freed.set()
            elif ptype == pk.SUBACK and not flags and 3 <= length <= 64:
                await self._fill(self._rx[:length])
                if self._sub_topic is not None and (self.rx[0] << 8 | self.rx[1]) == self._sub_pid:
                    self._sub_result = self.rx[2]
                    self._sub_done.set()
            elif ptype == pk.UNSUBACK and not flags and length == 2:
                await self._fill(self._rx[:2])
            elif ptype == pk.PINGRESP and not flags and not length:
                pass
            else:
                raise pk.MQTTError(pk.MALFORMED, "unexpected packet type %d flags %d length %d"
                                   % (ptype, flags, length))

    async def _transmit(self):
        if self.birth is not None:
            topic, payload, qos, retain = self.birth
            # Connection-scoped: not in the window (each connection sends a fresh one; its PUBACK is ignored).
            await self._write_publish(pk.as_bytes(topic), pk.as_bytes(payload), qos, retain, False,
                                      self._new_pid() if qos else 0)
        while True:
            if self._closing:
                if self._send_will and self.will is not None:
                    topic, payload, _, retain = self.will
                    await self._write_publish(pk.as_bytes(topic), pk.as_bytes(payload), 0, retain, False, 0)
                await self._write(pk.DISCONNECT_PACKET)
                return
            if self._ping_due:
                self._ping_due = False
                await self._write(pk.PINGREQ_PACKET)
                continue
            if self._sub_topic is not None and not self._sub_sent:
                self._sub_sent = True
                n = pk.subscribe_packet(self._tx, self._sub_pid, self._sub_topic, self._sub_qos)
                await self._write(self._tx_mv[:n])
                continue
            window = self._window
            slot = window.next_queued()
            if slot >= 0:
                dup = window.begin_send(slot)  # marked before writing: a fast PUBACK must find it
                self.resent += dup
                await self._write_publish(window.topic[slot], window.payload[slot], window.qos[slot],
                                          window.retain(slot), dup, window.pid[slot])
                if window.written(slot):
                    self._slot_freed.set()
                continue
            await self._tx_wake.wait()
            self._tx_wake.clear()

    async def _keepalive(self):
        # Only decides; the transmit task writes the PINGREQ. So a write stuck on a dead socket cannot
        # stop this task from noticing that nothing came back.
        if not self.keepalive_ms:
            return await self._ended.wait()
        half = self.keepalive_ms // 2
        tick = min(1000, max(50, half // 4))
        while True:
            await asyncio.sleep_ms(tick)
            now = time.ticks_ms()
            idle_tx = time.ticks_diff(now, self._last_tx) >= half
            if self._in_handler:
                # Nothing is read while a handler runs, so an answer cannot be seen: keep the broker's
                # keepalive satisfied and judge the connection again once the handler is done.
                if idle_tx:
                    self._want_ping()
                continue
            if self._ping_at is not None:
                if time.ticks_diff(now, self._ping_at) >= half:
                    raise pk.MQTTError(pk.KEEPALIVE_TIMEOUT, "no answer to PINGREQ within %d ms" % half)
            elif idle_tx or time.ticks_diff(now, self._last_rx) >= half:
                self._ping_at = now
                self._want_ping()

    def _want_ping(self):
        self._ping_due = True
        self._last_tx = time.ticks_ms()  # asked for now: not again before another half interval
        self._tx_wake.set()

    # --- receiving ----------------------------------------------------------------------------------------

    async def _fill(self, mv):
        """Read exactly len(mv) bytes into mv."""
        got = 0
        want = len(mv)
        while got < want:
            n = await self._reader.readinto(mv[got:])
            if n is None:  # TLS: a record not complete yet
                continue
            if not n:
                raise pk.MQTTError(pk.CONNECTION_LOST, "closed by the broker")
            got += n

    async def _read_header(self):
        """(packet type, flags, remaining length) of the next packet; the length decoder stops at 4 bytes."""
        await self._fill(self._head_mv)  # every packet has at least these two bytes: one read, not two
        first = self._head[0]
        length, multiplier = pk.length_step(0, 1, self._head[1])
        while multiplier:
            await self._fill(self._head_mv[:1])
            length, multiplier = pk.length_step(length, multiplier, self._head[0])
        return first >> 4, first & 0x0F, length

    async def _on_publish(self, flags, length):
        qos = (flags >> 1) & 3
        if qos > 1:
            raise pk.MQTTError(pk.MALFORMED, "PUBLISH with QoS %d (only 0 and 1 are subscribed)" % qos)
        if length > len(self.rx):
            return await self._skip_oversized(qos, length)
        await self._fill(self._rx[:length])
        start, pid = self._publish_fields(qos, length)
        self.received += 1
        await self._deliver(self._rx[2 : 2 + (self.rx[0] << 8 | self.rx[1])], self._rx[start:length])
        if qos:
            pk.puback_packet(self._ack, pid)
            await self._write(self._ack)

    def _publish_fields(self, qos, available):
        """(payload offset, packet id) from the PUBLISH variable header at the start of the buffer."""
        start = 2 + (self.rx[0] << 8 | self.rx[1]) + (2 if qos else 0)
        if start > available:
            raise pk.MQTTError(pk.MALFORMED, "PUBLISH topic longer than the packet")
        pid = (self.rx[start - 2] << 8 | self.rx[start - 1]) if qos else 0
        if qos and not pid:
            raise pk.MQTTError(pk.MALFORMED, "PUBLISH with packet id 0")
        return start, pid

    async def _skip_oversized(self, qos, length):
        # Larger than any valid message: read it through the same buffer and drop it. The first chunk holds
        # the packet id, so a QoS 1 message is still acknowledged (else the broker redelivers it forever).
        chunk = len(self.rx)
        await self._fill(self._rx)
        _, pid = self._publish_fields(qos, chunk)
        left = length - chunk
        while left:
            n = min(left, chunk)
            await self._fill(self._rx[:n])
            left -= n
        self.oversized += 1
        if qos:
            pk.puback_packet(self._ack, pid)
            await self._write(self._ack)

    async def _deliver(self, topic, payload):
        if self.handler is None:
            return
        self._in_handler = True
        try:
            await self.handler(topic, payload)
        except Exception:  # noqa: BLE001 - a failing handler must not end the session; it is counted
            self.handler_errors += 1
        finally:
            self._in_handler = False
            now = time.ticks_ms()
            self._last_rx = now
            if self._ping_at is not None:
                self._ping_at = now  # its answer may be waiting unread: give it a fresh interval

    # --- sending ------------------------------------------------------------------------------------------

    async def _write(self, data):
        # One packet (or one part of one) at a time; drained before the lock is released, so asyncio's
        # stream never concatenates two writes (it copies only an unsent tail under back-pressure).
        async with self._write_lock:
            self._writer.write(data)
            await self._writer.drain()
            self._last_tx = time.ticks_ms()

    async def _write_publish(self, topic, payload, qos, retain, dup, pid):
        n = pk.publish_header(self._tx, topic, len(payload), qos, retain, dup, pid)
        async with self._write_lock:
            self._writer.write(self._tx_mv[:n])
            await self._writer.drain()
            if len(payload):
                self._writer.write(payload)
                await self._writer.drain()
            self._last_tx = time.ticks_ms()

    def _new_pid(self):
        # 1..65535, skipping ids still in use by the window or a pending subscribe.
        while True:
            self._next_pid = self._next_pid % 65535 + 1
            pid = self._next_pid
            if pid != self._sub_pid and not self._window.uses_pid(pid):
                return pid

    async def _close(self):
        writer, self._writer, self._reader = self._writer, None, None
        if writer is None:
            return
        try:
            writer.close()
            await writer.wait_closed()
        except (OSError, ValueError):
            pass
