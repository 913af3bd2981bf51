# CPython stand-in for MicroPython's `micropython` module, for firmware code imported by CPython tests
# (tests/firmware/lock_oracle.py). Only what firmware/core uses: const() is the identity there.


def const(value):
    return value
