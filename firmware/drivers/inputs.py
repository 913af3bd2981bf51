# Debounced inputs for the inside request-to-exit button and the door reed switch.
#
# The pin interrupt handler only latches (a flag and the tick of the last edge): it allocates nothing and
# decides nothing, which is what an ISR on the ESP32 may safely do. The decision happens later, in the
# poll loop: once no edge has arrived for debounce_ms the contact has stopped bouncing, and the pin's
# level then is the real one. Pins are any object with value(); ticks come from the HAL.


class DebouncedButton:
    """hw.exit_button: take_press() -> True once per debounced press."""

    def __init__(self, pin, ticks_ms, ticks_diff, debounce_ms=50, active=0):
        self._pin = pin
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self.debounce_ms = debounce_ms
        self._active = active
        self._pending = False
        self._edge_at = 0

    def irq(self, _pin=None):
        self._edge_at = self._ticks_ms()
        self._pending = True

    def take_press(self):
        if not self._pending or self._ticks_diff(self._ticks_ms(), self._edge_at) < self.debounce_ms:
            return False
        self._pending = False
        return self._pin.value() == self._active


class DebouncedSwitch:
    """hw.door: is_open() -> the last level that stayed put for debounce_ms."""

    def __init__(self, pin, ticks_ms, ticks_diff, debounce_ms=100, open_level=1):
        self._pin = pin
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self.debounce_ms = debounce_ms
        self._open_level = open_level
        self._open = pin.value() == open_level
        self._pending = False
        self._edge_at = 0

    def irq(self, _pin=None):
        self._edge_at = self._ticks_ms()
        self._pending = True

    def is_open(self):
        if self._pending and self._ticks_diff(self._ticks_ms(), self._edge_at) >= self.debounce_ms:
            self._pending = False
            self._open = self._pin.value() == self._open_level
        return self._open
