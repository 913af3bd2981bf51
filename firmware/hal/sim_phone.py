# The simulator's phone transport: what the board's BLE service does (hal/esp32_ble.py), played over the
# control channel instead (`phone_hello`, `phone_answer`: docs/SIMULATOR.md). The core attaches its exchange
# (core.phonetap); the answer to the phone is broadcast as a `phone` report.


class SimPhone:
    def __init__(self, hw):
        self.hw = hw
        self.exchange = None  # attached by the core when the config has a device id
        self.results = 0

    def attach(self, exchange):
        self.exchange = exchange

    def result(self, reason):
        self.results += 1
        self.hw.broadcast("phone", {"result": reason})
