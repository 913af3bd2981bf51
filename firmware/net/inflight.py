# The outgoing window: PUBLISH packets from the moment publish() accepts them until they are done (QoS 0:
# written once; QoS 1: PUBACK received). A fixed number of slots, allocated once; a slot keeps references to
# the caller's topic and payload (no copy). Slots go out in the order they were accepted, and after a
# reconnect every slot still waiting for its PUBACK is sent again, first and in order, with DUP set
# (MQTT 3.1.1 section 4.4). The window lives in RAM only: a reboot loses it (the app keeps anything that
# matters on flash until the cloud acknowledges it at the application level).
from micropython import const

FREE = const(0)
QUEUED = const(1)  # accepted, not written on the current connection
SENT = const(2)  # written, waiting for PUBACK

_RETAIN = const(1)
_EVER_SENT = const(2)  # written on some connection: a resend carries DUP


class InFlight:
    def __init__(self, size):
        if not 1 <= size <= 64:
            raise ValueError("max_inflight must be 1..64")
        self.size = size
        self.state = bytearray(size)
        self.qos = bytearray(size)
        self.flags = bytearray(size)
        self.pid = [0] * size
        self.topic = [None] * size
        self.payload = [None] * size
        self.order = [0] * size
        self._next_order = 0

    def free_slot(self):
        """Index of a free slot, or -1 when the window is full."""
        for i in range(self.size):
            if self.state[i] == FREE:
                return i
        return -1

    def pending(self):
        """Slots in use (accepted, not done)."""
        used = 0
        for s in self.state:
            if s != FREE:
                used += 1
        return used

    def uses_pid(self, pid):
        for i in range(self.size):
            if self.state[i] != FREE and self.pid[i] == pid:
                return True
        return False

    def put(self, i, pid, topic, payload, qos, retain):
        self.state[i] = QUEUED
        self.qos[i] = qos
        self.flags[i] = _RETAIN if retain else 0
        self.pid[i] = pid
        self.topic[i] = topic
        self.payload[i] = payload
        self.order[i] = self._next_order
        self._next_order += 1

    def next_queued(self):
        """The oldest slot not yet written on this connection, or -1."""
        best = -1
        for i in range(self.size):
            if self.state[i] == QUEUED and (best < 0 or self.order[i] < self.order[best]):
                best = i
        return best

    def retain(self, i):
        return bool(self.flags[i] & _RETAIN)

    def begin_send(self, i):
        """Mark slot i as written (before the write, so a fast PUBACK finds it); returns its DUP flag."""
        dup = bool(self.flags[i] & _EVER_SENT) and self.qos[i] > 0
        self.flags[i] |= _EVER_SENT
        self.state[i] = SENT
        return dup

    def written(self, i):
        """The write of slot i completed: a QoS 0 slot is done (True = a slot became free)."""
        if self.qos[i] == 0 and self.state[i] == SENT:
            self._free(i)
            return True
        return False

    def acked(self, pid):
        """PUBACK for pid: frees its slot; False when no QoS 1 slot has that id (a late or stray ack)."""
        for i in range(self.size):
            if self.state[i] != FREE and self.qos[i] and self.pid[i] == pid:
                self._free(i)
                return True
        return False

    def connection_lost(self):
        """Written-but-unacknowledged QoS 1 slots are queued again; QoS 0 slots are dropped (at most once).
        Returns how many QoS 0 messages were dropped."""
        dropped = 0
        for i in range(self.size):
            if self.state[i] == FREE:
                continue
            if self.qos[i] == 0:
                self._free(i)
                dropped += 1
            else:
                self.state[i] = QUEUED
        return dropped

    def _free(self, i):
        self.state[i] = FREE
        self.topic[i] = None
        self.payload[i] = None
