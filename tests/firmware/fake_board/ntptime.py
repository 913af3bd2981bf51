# A stand-in for the ESP32's frozen `ntptime` module (tests set `fail` to simulate no network, and `now`
# to the seconds the "server" answers, counted from this port's epoch as the real module does).
host = "pool.ntp.org"
fail = False
now = 0
calls = []


def time():
    calls.append(host)
    if fail:
        raise OSError(110)  # ETIMEDOUT
    return now
