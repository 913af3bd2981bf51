# Hardware abstraction: build(config) -> the Hardware object the core drives.
#
# config["hal"] picks the implementation: "esp32" (the board; the only code that builds machine.*
# objects) or "sim" (the MicroPython unix port, driven over a local control channel). The module is
# imported lazily so the unix port never imports `machine` and the board never loads the simulator.
HALS = ("esp32", "sim")


class HalError(ValueError):
    """The config names no usable HAL or an unusable hardware setting; str(error) says which."""


def _module(name):
    if name == "esp32":
        from hal import esp32

        return esp32
    if name == "sim":
        from hal import sim

        return sim
    raise HalError("config hal: use one of %s, not %r" % (", ".join(HALS), name))


def build(config):
    name = config.get("hal", "esp32")
    module = _module(name)
    try:
        return module.build(config)
    except (KeyError, TypeError, ValueError) as exc:
        # A missing or mistyped key: name it, so the fix is obvious from the console.
        raise HalError("hardware config (%s): %s %s" % (name, type(exc).__name__, exc))
