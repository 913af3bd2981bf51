# Phone taps: a mobile key exchange (core.mobilekey) wired into the lock like a card read. The transport (the
# ESP32 HAL's BLE service, or the simulator's control channel) is `hw.phone`: the app attaches the exchange to
# it, the transport calls hello() and feed(), and LockApp.step() decides a complete presentation with handle()
# at its next pass; the answer goes back through hw.phone.result(reason). Nothing here waits on the network.
from core.config import int_setting
from core.decision import phone_verdict
from core.mobilekey import PhoneExchange, device_id_bytes

# Phone attempts refused before their ticket verified (anyone within radio range can make them) are logged at
# most once per this many ms, so that a stranger's burst cannot push real entries out of the event log.
QUIET_MS = 5000


def attach(app, hw, config):
    """PhoneTaps attached to the HAL's transport, or None when the config has no usable device id."""
    device_id = device_id_bytes(config.get("device_id"))
    if device_id is None:
        return None
    taps = PhoneTaps(app, device_id, int_setting(config, "phone_challenge_s", 1, 60) * 1000)
    hw.phone.attach(taps)
    return taps


class PhoneTaps(PhoneExchange):
    def __init__(self, app, device_id, ttl_ms):
        super().__init__(device_id, app.hw.ticks_ms, app.hw.ticks_diff, ttl_ms)
        self.app = app
        self.unlogged = 0  # unauthenticated refusals not logged (QUIET_MS)
        self._logged_at = None

    def handle(self):
        """Decide on the waiting presentation, act on it, answer the phone; returns the Verdict."""
        app = self.app
        try:
            checked = self.check(app.keys.mobile_key)
        finally:
            self.done()  # the inbox takes the next presentation whatever happened
        site = app.site
        verdict = phone_verdict(
            app.store, app.keys.table_key(app.store.generation), checked, app.clock.trusted_now(),
            site.offsets, site.until, site.decision_mode(),
        )
        app._act(verdict, "mobile", verdict.cred is not None or self._log_due())
        try:
            app.hw.phone.result(verdict.reason)
        except Exception:  # the phone not hearing the answer must not touch the door
            app._report("error", {"where": "phone", "type": "result"})
        return verdict

    def _log_due(self):
        hw = self.app.hw
        now, last = hw.ticks_ms(), self._logged_at
        if last is not None and hw.ticks_diff(now, last) < QUIET_MS:
            self.unlogged += 1
            return False
        self._logged_at = now
        return True
