# micropython-test heapsize=320K
# heapsize 320K: the ESP32 HAL, its BLE service, the drivers, the whole core and the key builders compile from
# source into one heap here.
# The ESP32 HAL's BLE phone service (hal/esp32_ble.py) on the real MicroPython interpreter over a stand-in
# `bluetooth` module (tests/firmware/fake_board): what it advertises, the hello with a fresh challenge per
# connection, a presentation in 20-byte writes opening the door through the real core, the answer notified,
# a new challenge after it, refusals of bad writes, and advertising again once the phone leaves.
import sys

for _path in ("tests/firmware/fake_board", "firmware"):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import json  # noqa: E402
import os  # noqa: E402

import bluetooth  # noqa: E402  (the stand-in)
import machine  # noqa: E402  (the stand-in)
from drivers import servo  # noqa: E402, F401
from hal import esp32, esp32_ble  # noqa: E402

from tests.firmware import fwapp, fwphone  # noqa: E402

_key, _entry = fwphone.make_key, fwphone.entry


def _board():
    with open("firmware/config.example.json") as f:
        config = json.load(f)
    config.update(fwphone.CONFIG)
    config["data_dir"] = "/tmp/esp32ble_%d" % (os.urandom(1)[0] * 256 + os.urandom(1)[0])
    config["ble_phone_keys"] = True
    config.pop("wifi_ssid", None)
    machine.created.clear()
    machine.reset_cause_value = machine.PWRON_RESET
    hw = esp32.build(config)
    hw, app = fwphone.make_lock([_entry(1)], hw=hw, config=config)
    return hw, app, bluetooth.instances[-1]


def _handles(ble):
    return (ble.handle_of(esp32_ble.HELLO_UUID), ble.handle_of(esp32_ble.PRESENT_UUID),
            ble.handle_of(esp32_ble.RESULT_UUID))


def _write_parts(ble, present, data, size=19):
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    for i in range(len(pieces)):
        part = "S" if len(pieces) == 1 else ("F" if i == 0 else ("L" if i == len(pieces) - 1 else "M"))
        ble.central_write(1, present, part.encode() + pieces[i])


def test_advertises_only_the_service_and_the_device_id():
    hw, app, ble = _board()
    assert ble.advertising and hw.phone.exchange is app.phone
    _, adv, resp = ble.adverts[-1]
    assert adv == bytes((2, 1, 6, 17, 7)) + esp32_ble._uuid128_le(esp32_ble.SERVICE_UUID)
    assert resp == bytes((len(fwphone.DEVICE_ID) + 1, 9)) + fwphone.DEVICE_ID.encode()
    assert len(adv) <= 31 and len(resp) <= 31
    assert ble.buffers[_handles(ble)[1]] == esp32_ble.MAX_WRITE
    # a device id too long for the scan response goes out shortened
    _, resp = esp32_ble.advertising_payload("x" * 32)
    assert len(resp) == 31 and resp[1] == 8


def test_a_phone_opens_the_door_over_ble():
    hw, app, ble = _board()
    hello, present, result = _handles(ble)
    ble.central_connect()
    device_id, challenge = ble.gatts_read(hello).decode().split(" ")
    assert device_id == fwphone.DEVICE_ID and len(challenge) == 32
    data = fwphone.presentation(_key(1), challenge)
    _write_parts(ble, present, data)
    assert app.phone.ready()
    app.step()
    assert ble.gatts_read(result) == b"ok"
    assert (1, result, b"ok") in ble.notified
    assert fwapp.events(app)[-1][2:] == ["granted", _key(1)["key_id"], "ok"]
    # a new challenge for the next try, notified; the old one is spent
    _, again = ble.gatts_read(hello).decode().split(" ")
    assert again != challenge and ble.notified[-1][1] == hello
    _write_parts(ble, present, data)
    app.step()
    assert ble.gatts_read(result) == b"replayed"


def test_bad_writes_are_answered_and_the_phone_leaving_restarts_advertising():
    hw, app, ble = _board()
    hello, present, result = _handles(ble)
    ble.central_connect()
    assert not ble.advertising
    ble.central_write(1, present, b"Mabc")
    assert ble.gatts_read(result) == b"bad_part"
    ble.central_write(1, present, b"")  # an empty write is ignored
    ble.central_write(1, present, b"Sabc")
    ble.central_write(1, present, b"Sdef")
    assert ble.gatts_read(result) == b"busy"
    app.step()
    assert ble.gatts_read(result) == b"truncated"
    _, challenge = ble.gatts_read(hello).decode().split(" ")
    ble.central_disconnect()
    assert ble.advertising
    # the challenge that phone saw died with its connection
    ble.central_connect()
    _write_parts(ble, present, fwphone.presentation(_key(1), challenge))
    app.step()
    assert ble.gatts_read(result) == b"wrong_challenge"


def test_no_ble_unless_the_config_asks():
    with open("firmware/config.example.json") as f:
        config = json.load(f)
    config["data_dir"] = "/tmp/esp32ble_off"
    count = len(bluetooth.instances)
    hw = esp32.build(config)
    assert hw.phone is None and len(bluetooth.instances) == count
