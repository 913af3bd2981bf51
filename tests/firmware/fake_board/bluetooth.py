# A stand-in for the ESP32's `bluetooth` module (the GATT server side only), for running hal/esp32_ble.py on
# the unix port under test. Same method names and signatures as the ESP32 port (mypy checks the HAL against
# micropython-esp32-stubs in test_esp32_hal_types.py). Tests play the phone (the central) with the central_*
# helpers, which raise the same IRQ events the radio would.
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_DEFAULT_BUFFER = 20

instances = []


class UUID:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, UUID) and other.value == self.value


class BLE:
    def __init__(self):
        self.is_active = False
        self.handler = None
        self.settings = {}
        self.values = {}
        self.buffers = {}
        self.uuids = {}  # handle -> UUID
        self.notified = []  # (conn_handle, value_handle, value)
        self.adverts = []  # (interval_us, adv_data, resp_data)
        self.advertising = False
        instances.append(self)

    def active(self, is_active=None):
        if is_active is None:
            return self.is_active
        self.is_active = bool(is_active)

    def config(self, *args, **kwargs):
        if args:
            return self.settings.get(args[0])
        self.settings.update(kwargs)

    def irq(self, handler):
        self.handler = handler

    def gatts_register_services(self, services):
        handles, next_handle = [], 1
        for _uuid, characteristics in services:
            found = []
            for characteristic in characteristics:
                next_handle += 1
                self.uuids[next_handle] = characteristic[0]
                self.buffers[next_handle] = _DEFAULT_BUFFER
                found.append(next_handle)
            handles.append(tuple(found))
        return tuple(handles)

    def gatts_set_buffer(self, value_handle, length, append=False):
        self.buffers[value_handle] = length

    def gatts_write(self, value_handle, data, send_update=False):
        self.values[value_handle] = bytes(data)

    def gatts_read(self, value_handle):
        return self.values.get(value_handle, b"")

    def gatts_notify(self, conn_handle, value_handle, data=None):
        value = self.values.get(value_handle) if data is None else data
        self.notified.append((conn_handle, value_handle, value))

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self.adverts.append((interval_us, adv_data, resp_data))
        self.advertising = interval_us is not None

    # --- the phone's side (tests only) ---

    def central_connect(self, conn_handle=1):
        self.advertising = False  # the stack stops advertising when a central connects
        self.handler(_IRQ_CENTRAL_CONNECT, (conn_handle, 0, b"\x00" * 6))

    def central_write(self, conn_handle, value_handle, data):
        # A write longer than the value's buffer is cut to it, as on the board.
        self.values[value_handle] = bytes(data[: self.buffers[value_handle]])
        self.handler(_IRQ_GATTS_WRITE, (conn_handle, value_handle))

    def central_disconnect(self, conn_handle=1):
        self.handler(_IRQ_CENTRAL_DISCONNECT, (conn_handle, 0, b"\x00" * 6))

    def handle_of(self, uuid_text):
        for handle in self.uuids:
            if self.uuids[handle].value == uuid_text:
                return handle
        return None
