# Keeps the lock's MQTT session up: wait for the network, resolve the broker (dns.py: never blocking the
# loop), open TCP or TLS with the broker's CA pinned (tlsconf.py), CONNECT, subscribe to the downlink topic,
# then serve until the connection ends; retry after a jittered exponential backoff. stop() ends it cleanly.
#
#   link = Link(config, hw, handler=on_down, on_connect=on_up, report=hw.report)
#   task = link.start()                       # runs on the asyncio loop beside LockApp.run()
#   await link.publish(link.topic_up, message, qos=1)
#   await link.stop()
#
# Status: `locks/<id>/status` is "online" (retained, QoS 1) after every CONNACK and "offline" (retained) as
# the last will, published by the broker when the lock vanishes, and by stop() itself before DISCONNECT.
# Nothing here ever logs or reports broker_password.
import asyncio
import os

from micropython import const

from net import mqttpacket as pk
from net.mqtt import MQTTClient

# net.dns (broker_host is a name) and net.tlsconf (broker_tls) are imported only by the configs that use
# them: code loaded from flash takes heap.

TLS_REFUSED = "tls_refused"
CONNECT_FAILED = "connect_failed"
INTERNAL_ERROR = "internal_error"
OPEN_TIMEOUT_MS = const(10000)
NETWORK_POLL_MS = const(500)
STATUS_ONLINE = b"online"
STATUS_OFFLINE = b"offline"

class LinkConfigError(ValueError):
    """The network config cannot work (str() names the key); the link does not start."""


def ipv4_literal(host):
    """True for a dotted-quad IPv4 address such as 192.168.1.10."""
    parts = host.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part or len(part) > 3 or not part.isdigit() or int(part) > 255:
            return False
    return True


# Config keys and defaults: docs/FIRMWARE.md "Network". A key set to null counts as absent.
def _int_setting(config, key, low, high, default):
    value = config.get(key)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise LinkConfigError("%s must be an integer %d..%d" % (key, low, high))
    return value


def _str_setting(config, key, required=False):
    value = config.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise LinkConfigError("%s must be a non-empty string" % key)
    return value


class Backoff:
    """Delays between attempts: doubling from min_ms to max_ms, each drawn uniformly from [d/2, d] so that
    locks that lost the broker together do not all come back in the same second."""

    def __init__(self, min_ms, max_ms):
        self.min_ms = min_ms
        self.max_ms = max(min_ms, max_ms)
        self.attempts = 0

    def reset(self):
        self.attempts = 0

    def next_ms(self):
        ceiling = self.min_ms
        for _ in range(self.attempts):
            ceiling *= 2
            if ceiling >= self.max_ms:
                ceiling = self.max_ms
                break
        if ceiling < self.max_ms:
            self.attempts += 1
        half = ceiling // 2
        return half + (os.urandom(1)[0] << 8 | os.urandom(1)[0]) * (ceiling - half) // 65535


class Link:
    def __init__(self, config, hw=None, handler=None, on_connect=None, report=None):
        self.device_id = _str_setting(config, "device_id", True)
        self.host = _str_setting(config, "broker_host", True)
        self.tls = config.get("broker_tls") is True
        self.port = _int_setting(config, "broker_port", 1, 65535, 8883 if self.tls else 1883)
        self.hostname = _str_setting(config, "broker_hostname") or self.host
        self.topic_up = "locks/%s/up" % self.device_id
        self.topic_down = "locks/%s/down" % self.device_id
        self.topic_status = "locks/%s/status" % self.device_id
        self._context = self._tls_context(config) if self.tls else None
        self.hw = hw
        self.on_connect = on_connect
        self._report = report
        self.backoff = Backoff(_int_setting(config, "broker_backoff_min_ms", 10, 3600000, 1000),
                               _int_setting(config, "broker_backoff_max_ms", 10, 3600000, 60000))
        self._dns_configured = self._dns_setting(config)
        self.resolver = None  # a net.dns.Resolver once a name has to be looked up
        status = self.topic_status
        self.client = MQTTClient(
            self.device_id,
            # broker_username: the name the cloud's provisioning bundle gives this key (docs/SECURITY.md).
            user=(_str_setting(config, "broker_user") or _str_setting(config, "broker_username")
                  or self.device_id),
            password=_str_setting(config, "broker_password"),
            keepalive_s=_int_setting(config, "keepalive_s", 0, 65535, 60),
            # Default: keep the session, so QoS 1 downlinks sent while the lock was away still arrive.
            clean_session=config.get("broker_clean_session") is True,
            will=(status, STATUS_OFFLINE, 1, True),
            birth=(status, STATUS_ONLINE, 1, True),
            max_inflight=_int_setting(config, "broker_max_inflight", 1, 64, 4),
            handler=handler,
        )
        self.state = "idle"  # idle, waiting_network, connecting, connected, backoff, stopped
        self.last_error = None  # the code of the last failure (see MQTTError codes, tls_refused, ...)
        self.connects = 0
        self.failures = 0
        self._stopping = False
        self._task = None

    # --- API --------------------------------------------------------------------------------------------

    def start(self):
        """Run the link as a task on the current loop; returns the task."""
        if self._task is None:
            self._task = asyncio.create_task(self.run())
        return self._task

    async def publish(self, topic, payload, qos=1, retain=False):
        """MQTTClient.publish: QoS 1 survives reconnects (RAM only), QoS 0 is dropped while down."""
        return await self.client.publish(topic, payload, qos, retain)

    async def stop(self, timeout_ms=2000):
        """Publish "offline" and DISCONNECT if connected, then end run(); unsent messages are dropped."""
        self._stopping = True
        if self.client.connected:
            await self.client.disconnect(send_will=True, timeout_ms=timeout_ms)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except BaseException:  # noqa: B036 - it was cancelled on purpose
                pass
        self.state = "stopped"

    async def run(self):
        """Connect, serve, and on any failure wait and connect again, until stop()."""
        while not self._stopping:
            if not self._network_ready():
                self._set_state("waiting_network")
                await asyncio.sleep_ms(NETWORK_POLL_MS)
                continue
            try:
                await self._session()
            except pk.MQTTError as exc:  # DNS failures included (net.dns.DNSError)
                self._failed(exc.code, str(exc))
            except ValueError as exc:  # mbedTLS: certificate not signed by the pinned CA, wrong name
                self._failed(TLS_REFUSED if self.tls else CONNECT_FAILED, self._tls_detail(exc))
            except OSError as exc:
                self._failed(CONNECT_FAILED, "%s %s" % (type(exc).__name__, exc))
            except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: report it, retry after the backoff
                self._failed(INTERNAL_ERROR, "%s %s" % (type(exc).__name__, exc))
            if self._stopping:
                break
            delay = self.backoff.next_ms()
            self._set_state("backoff", {"retry_ms": delay})
            await asyncio.sleep_ms(delay)
        self.state = "stopped"

    def status(self):
        client = self.client
        return {
            "state": self.state, "error": self.last_error, "connects": self.connects,
            "failures": self.failures,
            "pending": client.pending(), "received": client.received, "oversized": client.oversized,
            "dropped_qos0": client.dropped_qos0, "handler_errors": client.handler_errors,
            "resent": client.resent,
        }

    # --- one session ------------------------------------------------------------------------------------

    async def _session(self):
        self._set_state("connecting")
        address = await self._address()
        try:
            reader, writer = await asyncio.wait_for_ms(self._open(address), OPEN_TIMEOUT_MS)
            session_present = await self.client.connect(reader, writer)
        except asyncio.TimeoutError:
            self._forget_address()
            raise pk.MQTTError(CONNECT_FAILED, "no TCP connection to %s:%d" % (address, self.port))
        except (OSError, pk.MQTTError) as exc:
            if isinstance(exc, OSError) or exc.code == pk.CONNECT_TIMEOUT:
                self._forget_address()  # nobody answered there: the name may point elsewhere now
            raise
        serving = asyncio.create_task(self.client.serve())
        try:
            await self.client.subscribe(self.topic_down, 1)
            self.connects += 1
            self.backoff.reset()
            self._set_state("connected", {"session": session_present})
            await self._connected(session_present)
            await serving
        finally:
            serving.cancel()  # no effect when it has ended; else serve()'s cleanup closes the socket
            try:
                await serving
            except BaseException:  # noqa: B036 - its own error was already raised above, or it was cancelled
                pass

    async def _connected(self, session_present):
        if self.on_connect is None:
            return
        try:
            await self.on_connect(session_present)
        except Exception as exc:  # noqa: BLE001 - the dispatcher's failure must not drop the session
            self._set_state("connected", {"on_connect_error": "%s %s" % (type(exc).__name__, exc)})

    async def _address(self):
        if self.host == "localhost":
            return "127.0.0.1"
        if ipv4_literal(self.host):
            return self.host
        if self.resolver is None:
            from net.dns import Resolver

            self.resolver = Resolver()
        self.resolver.server = self._dns_server()
        return await self.resolver.resolve(self.host)

    def _forget_address(self):
        if self.resolver is not None:
            self.resolver.forget()

    async def _open(self, address):
        if self._context is None:
            return await asyncio.open_connection(address, self.port)
        return await asyncio.open_connection(address, self.port, ssl=self._context,
                                             server_hostname=self.hostname)

    # --- helpers ----------------------------------------------------------------------------------------

    def _tls_context(self, config):
        path = _str_setting(config, "broker_ca")
        if path is None:
            raise LinkConfigError("broker_tls needs broker_ca: the path of the broker's CA certificate")
        from net.tlsconf import TLSConfigError, client_context, load_ca

        try:
            return client_context(load_ca(path))
        except TLSConfigError as exc:
            raise LinkConfigError(str(exc))

    def _dns_setting(self, config):
        text = config.get("dns_server")
        if text is None:
            return None
        from net.dns import parse_server

        server = parse_server(text)
        if server is None:
            raise LinkConfigError("dns_server must be an IPv4 address, optionally with :port")
        return server

    def _dns_server(self):
        # Asked at every connect: on the board the DHCP answer (and so the server) arrives with WiFi. The
        # config's dns_server first, then the HAL's, then the unix host's resolv.conf (the simulator).
        if self._dns_configured is not None:
            return self._dns_configured
        from net.dns import host_dns_server, parse_server

        if self.hw is not None and hasattr(self.hw, "dns_server"):
            return parse_server(self.hw.dns_server())
        return host_dns_server()

    def _tls_detail(self, exc):
        reason = " ".join(str(exc).split())  # mbedTLS's text comes with line breaks
        if not self.tls:
            return reason
        return "broker certificate refused (broker_ca pinned, name %s): %s" % (self.hostname, reason)

    def _network_ready(self):
        hw = self.hw
        return hw is None or not hasattr(hw, "network_ready") or hw.network_ready()

    def _failed(self, code, detail):
        self.failures += 1
        self.last_error = code
        self._set_state("down", {"error": code, "detail": detail})

    def _set_state(self, state, fields=None):
        if state == self.state and fields is None:
            return
        self.state = state
        if self._report is None:
            return
        data = {"state": state}
        if fields:
            data.update(fields)
        try:
            self._report("net", data)
        except Exception:  # noqa: BLE001 - an observer's failure must not stop the link
            pass
