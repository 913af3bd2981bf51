# A stand-in for the ESP32's frozen `ntptime` module (tests set `fail` to simulate no network).
host = "pool.ntp.org"
fail = False
calls = []


def settime():
    calls.append(host)
    if fail:
        raise OSError(110)  # ETIMEDOUT
