# micropython-test heapsize=320K
# The lock's own side (firmware/core, which must not import shared_schema.messages) against the contract, on
# the real MicroPython: every payload the LockApp builds for an uplink passes encode() and the cloud's
# decode(); the lock's keys verify what the cloud MACs and refuse a reflected uplink; a secret the cloud
# wraps for `rekey` unwraps on the lock; the lock's clock and challenge feed freshness_error().
# heapsize 320K: the whole core and the message code compile from source into the heap here (208K was the
# least that passed; since the core grew by the phone's reasons and decisions 288K is; below, fragmentation
# from compiling makes the 4 KB buffers of encode() fail or pass by chance).
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwapp, fwenv

from core import keys as core_keys
from shared_schema import messages

DEVICE = "lock-0001"
EPOCH = fwapp.CONFIG["epoch"]
CLOUD_UP = messages.direction_key(fwenv.DEVICE_SECRET, messages.UP)
CLOUD_DOWN = messages.direction_key(fwenv.DEVICE_SECRET, messages.DOWN)


def _uplink(app, kind, payload, counter):
    # The lock encodes with its own K_up; the cloud decodes with the K_up it derives from the same secret.
    wire = messages.encode(kind, DEVICE, EPOCH, counter, payload, app.uplink_key(), fwapp.NOW)
    message, error = messages.decode(wire, CLOUD_UP, DEVICE, EPOCH, messages.UP, counter - 1)
    assert error is None, (kind, payload, error)
    return message


def test_every_uplink_payload_the_lock_builds_passes_the_contract():
    hw, app = fwapp.make_app()
    assert _uplink(app, "hello", app.hello_payload(), 1)["p"]["nonce"] == app.challenge
    _uplink(app, "state", app.state_payload(), 2)
    app.handle_tap("iso14443a", fwenv.uid(999))
    app.handle_tap("iso14443a", fwenv.uid(1))
    _uplink(app, "events", app.events_payload(), 3)
    _uplink(app, "perm_ack", fwapp.send_snapshot(app, 2), 4)
    refused = fwapp.run(app.apply_delta({"base": 7, "ver": 8, "g": 1, "add": [], "del": []}))
    assert refused["ok"] is False and refused["need"] == "snapshot", refused
    _uplink(app, "perm_ack", refused, 5)
    config = {"ver": 3, "mode": "normal", "passage": [], "unlock_s": 5, "held_s": 30}
    _uplink(app, "cfg_ack", app.apply_config(config), 6)
    _uplink(app, "cfg_ack", app.apply_config(dict(config, ver=2)), 7)  # a refusal, with its err
    _uplink(app, "cmd_result", app.remote("c-1", "unlock", 20), 8)
    _uplink(app, "cmd_result", app.remote("c-2", "open_sesame"), 9)


def test_a_lock_in_resync_says_so_in_a_valid_hello():
    hw, app = fwapp.make_app(provisioned=False)
    hello = _uplink(app, "hello", app.hello_payload(), 1)
    assert hello["p"]["resync"] is True and hello["p"]["trusted"] is False


def test_the_lock_keys_verify_the_cloud_and_refuse_a_reflected_uplink():
    hw, app = fwapp.make_app()
    generation, k_down, k_up = app.downlink_keys()[0]
    wire = messages.encode("ev_ack", DEVICE, EPOCH, 5, {"upto": 1}, CLOUD_DOWN, fwapp.NOW, fwapp.NOW + 60)
    message, error = messages.decode(wire, k_down, DEVICE, EPOCH, messages.DOWN, 4)
    assert error is None and message["p"] == {"upto": 1}, error
    reflected = messages.encode("ev_ack", DEVICE, EPOCH, 6, {"upto": 1}, app.uplink_key(), fwapp.NOW,
                                fwapp.NOW + 60)
    assert messages.decode(reflected, k_down, DEVICE, EPOCH, messages.DOWN, 5) == (None, "bad_signature")


def test_a_secret_the_cloud_wraps_unwraps_on_the_lock():
    hw, app = fwapp.make_app()
    k_down = app.downlink_keys()[0][1]
    new_secret = bytes(range(50, 82))
    wrapped = messages.wrap_secret(new_secret, CLOUD_DOWN, 77)
    wire = messages.encode("rekey", DEVICE, EPOCH, 77, {"gen": 2, "wrapped": wrapped}, CLOUD_DOWN,
                           fwapp.NOW, fwapp.NOW + 60)
    message, error = messages.decode(wire, k_down, DEVICE, EPOCH, messages.DOWN, 0)
    assert error is None, error
    assert core_keys.unwrap(k_down, message["n"], message["p"]["wrapped"]) == new_secret
    assert app.apply_rekey(message["p"]["gen"], new_secret) is None
    # Afterwards the lock signs with the new generation's K_up, which the cloud derives from the new secret.
    wire = messages.encode("hello", DEVICE, EPOCH, 2, app.hello_payload(), app.uplink_key(), fwapp.NOW)
    new_up = messages.direction_key(new_secret, messages.UP)
    assert messages.decode(wire, new_up, DEVICE, EPOCH, messages.UP, 1)[1] is None


def test_freshness_from_the_lock_clock_and_challenge():
    hw, app = fwapp.make_app(provisioned=False)
    nonce = app.new_challenge()
    k_down = app.downlink_keys()[0][1]
    time = messages.encode("time", DEVICE, EPOCH, 9, {"now": fwapp.NOW, "offsets": fwapp.UTC,
                                                      "until": fwapp.UNTIL}, CLOUD_DOWN, fwapp.NOW,
                           fwapp.NOW + 60, nonce)
    message = messages.decode(time, k_down, DEVICE, EPOCH, messages.DOWN, 0)[0]

    def freshness(message):
        now = app.clock.trusted_now()
        return messages.freshness_error(message, now, now is not None, app.challenge, app.challenge_age_s(),
                                        app.resync)

    assert freshness(message) is None  # untrusted clock, in resync: only a time answering the challenge
    snap = {"ver": 1, "g": 1, "i": 0, "of": 1, "e": []}
    unbound = messages.decode(messages.encode("snap", DEVICE, EPOCH, 10, snap, CLOUD_DOWN, fwapp.NOW,
                                              fwapp.NOW + 60), k_down, DEVICE, EPOCH, messages.DOWN, 9)[0]
    assert freshness(unbound) == "expiry_unverifiable"
    assert app.apply_time(message["p"]["now"], message["p"]["offsets"], message["p"]["until"]) is None
    assert freshness(unbound) == "resync_required"  # clock trusted now, but still in resync
    hw.time.ms += 31000
    assert freshness(message) == "stale_challenge"
