# Status LED and buzzer patterns: a pattern is a list of (level, milliseconds) steps, played once or
# repeated. A one-shot pattern (granted, denied...) falls back to the resting one (idle, offline...)
# when it ends. step() is called every few ms by the HAL's housekeeping task; show()/play() only
# choose the pattern, so the core never waits for a blink to finish.

PATTERN_NAMES = ("idle", "granted", "denied", "error", "offline", "held_open", "jammed", "boot")

# name -> (steps, repeat)
LED_PATTERNS = {
    "idle": (((1, 30), (0, 2970)), True),  # short heartbeat: alive and locked
    "offline": (((1, 30), (0, 270), (1, 30), (0, 2670)), True),  # double heartbeat
    "boot": (((1, 100), (0, 100)) * 3, False),
    "granted": (((1, 2000),), False),
    "denied": (((1, 100), (0, 100)) * 5, False),
    "error": (((1, 300), (0, 300)) * 3, False),
    "held_open": (((1, 250), (0, 250)), True),
    "jammed": (((1, 100), (0, 100)), True),
}
BUZZER_PATTERNS = {
    "idle": (((0, 1000),), True),
    "offline": (((0, 1000),), True),
    "boot": (((1, 60),), False),
    "granted": (((1, 120),), False),
    "denied": (((1, 80), (0, 80)) * 3, False),
    "error": (((1, 600),), False),
    "held_open": (((1, 200), (0, 800)), True),
    "jammed": (((1, 100), (0, 100)) * 10, False),
}
_RESTING = ("idle", "offline", "held_open", "jammed")


class PatternPlayer:
    """Plays named patterns on an output with value(level)."""

    def __init__(self, output, patterns, ticks_ms, ticks_diff):
        self._output = output
        self._patterns = patterns
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self.current = None
        self.resting = "idle"
        self.unknown = 0  # names asked for that we have no pattern for (counted, never raised)
        self._steps: tuple = ()
        self._repeat = False
        self._index = 0
        self._step_at = 0

    def start(self, name):
        entry = self._patterns.get(name)
        if entry is None:
            self.unknown += 1
            return
        if name in _RESTING:
            self.resting = name
        self.current = name
        self._steps, self._repeat = entry
        self._index = 0
        self._step_at = self._ticks_ms()
        self._output.value(self._steps[0][0])

    # hw.led.show(pattern) / hw.buzzer.play(pattern)
    show = start
    play = start

    def step(self):
        if not self._steps:
            return
        level, duration = self._steps[self._index]
        if self._ticks_diff(self._ticks_ms(), self._step_at) < duration:
            return
        self._step_at = self._ticks_ms()
        self._index += 1
        if self._index >= len(self._steps):
            if not self._repeat:
                self.start(self.resting)
                return
            self._index = 0
        self._output.value(self._steps[self._index][0])
