# A stand-in for the ESP32's `network` module (the WLAN station only), for running hal/esp32.py on the unix
# port under test. Same method names and signatures as the ESP32 port (checked by mypy against
# micropython-esp32-stubs in test_esp32_hal_types.py). Tests drive the "radio": `WLAN.aps` maps SSIDs to
# passwords that the access point accepts, `WLAN.in_range` says whether it can be heard at all.
STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_WRONG_PASSWORD = 202
STAT_NO_AP_FOUND = 201
STAT_GOT_IP = 1010

aps = {}
in_range = True
dns = "192.168.1.1"
instances = []


class WLAN:
    def __init__(self, interface_id=STA_IF):
        self.interface_id = interface_id
        self.is_active = False
        self.connects = []  # (ssid, password) of every connect() call
        self.disconnects = 0
        self._status = STAT_IDLE
        instances.append(self)

    def active(self, is_active=None):
        if is_active is None:
            return self.is_active
        self.is_active = bool(is_active)

    def connect(self, ssid=None, key=None):
        if not self.is_active:
            raise OSError("Wifi Not Started")
        self.connects.append((ssid, key))
        # The join takes a while on a board; here it ends at once, as a later status() would show.
        if not in_range or ssid not in aps:
            self._status = STAT_NO_AP_FOUND
        elif aps[ssid] != key:
            self._status = STAT_WRONG_PASSWORD
        else:
            self._status = STAT_GOT_IP

    def disconnect(self):
        self.disconnects += 1
        self._status = STAT_IDLE

    def status(self, param=None):
        return self._status

    def isconnected(self):
        return self._status == STAT_GOT_IP

    def ifconfig(self, config=None):
        if self._status != STAT_GOT_IP:
            return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
        return ("192.168.1.50", "255.255.255.0", "192.168.1.1", dns)

    def drop(self):
        """Test helper: the access point went away (signal lost)."""
        self._status = STAT_NO_AP_FOUND
