# The lock's hardware-independent core: access decisions, permission store, event log, thumb-turn state
# machine, clock and config. Nothing here imports `machine` or `network`; hardware arrives as objects
# (docs/FIRMWARE.md, notes in hal/). Runs unchanged on the ESP32 and on the MicroPython unix port.
