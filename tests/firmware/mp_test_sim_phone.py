# micropython-test heapsize=320K
# heapsize 320K: the simulator, the whole core and the key builders compile from source into one heap here.
# The simulator's phone transport on the real MicroPython interpreter: `phone_hello` and `phone_answer` on
# the control channel drive the core's exchange as BLE does on the board, the answer comes back as a
# `phone` report, and the channel refuses what it must.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import json
import os

from tests.firmware import fwenv, fwphone

from hal import build

_key, _entry = fwphone.make_key, fwphone.entry


def _hw(**overrides):
    raw = os.urandom(2)
    config = dict(fwphone.CONFIG)
    config.update({"hal": "sim", "sim_data_dir": fwenv.temp_dir(), "sim_reader": "direct",
                   "sim_control_port": 20000 + ((raw[0] << 8) | raw[1]) % 20000, "sim_time": fwphone.NOW})
    config.update(overrides)
    return build(config), config


def _line(hw, obj):
    return hw.handle_line(json.dumps(obj))


def _reports(hw, kind):
    out = []
    for line in hw.channel._history:
        obj = json.loads(line)
        if obj["report"] == kind:
            out.append(obj["data"])
    return out


def test_a_phone_opens_the_simulated_door():
    hw, config = _hw()
    hw, app = fwphone.make_lock([_entry(1)], hw=hw, config=config)
    hello = _line(hw, {"cmd": "phone_hello", "id": 3})
    assert hello["ok"] and hello["id"] == 3 and hello["device_id"] == fwphone.DEVICE_ID
    data = fwphone.presentation(_key(1), hello["challenge"]).decode()
    assert _line(hw, {"cmd": "phone_answer", "data": data}) == {"reply": "phone_answer", "ok": True}
    app.step()
    assert _reports(hw, "phone") == [{"result": "ok"}]
    assert _reports(hw, "decision")[-1]["kind"] == "mobile"
    assert _reports(hw, "actuator")[-1] == {"move": "unlock", "jammed": False}


def test_parts_and_refusals_on_the_channel():
    hw, config = _hw()
    hw, app = fwphone.make_lock([_entry(1)], hw=hw, config=config)
    challenge = _line(hw, {"cmd": "phone_hello"})["challenge"]
    data = fwphone.presentation(_key(1), challenge).decode()
    for i, part in ((0, "F"), (1, "M"), (2, "L")):
        assert _line(hw, {"cmd": "phone_answer", "part": part, "data": data[i * 150:(i + 1) * 150 if i < 2
                                                                                 else len(data)]})["ok"]
    assert _line(hw, {"cmd": "phone_answer", "data": "x"})["error"] == "busy"
    app.step()
    assert _reports(hw, "phone")[-1] == {"result": "ok"}
    assert _line(hw, {"cmd": "phone_answer", "part": "M", "data": "x"})["error"] == "bad_part"
    assert _line(hw, {"cmd": "phone_answer", "part": "Z", "data": "x"})["error"] == "bad_field"
    assert _line(hw, {"cmd": "phone_answer", "data": 5})["error"] == "bad_field"
    # a recorded exchange played again over the channel
    assert _line(hw, {"cmd": "phone_answer", "data": data})["ok"]
    app.step()
    assert _reports(hw, "phone")[-1] == {"result": "replayed"}


def test_no_phone_transport_is_not_fitted():
    hw, _ = _hw(sim_phone=False)
    assert hw.phone is None
    assert _line(hw, {"cmd": "phone_hello"})["error"] == "not_fitted"
    hw, config = _hw()
    assert _line(hw, {"cmd": "phone_hello"})["error"] == "not_fitted"  # no core attached yet
