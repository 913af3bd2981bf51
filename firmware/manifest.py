# Freeze manifest for a production ESP32 image (MicroPython's "manifest files", docs.micropython.org).
#
# Frozen modules are compiled into the firmware image and run from flash: their bytecode, constant strings
# and tuples take no heap, which is what leaves room for WiFi, TLS and MQTT on an ESP32 without PSRAM (the
# same modules loaded from .mpy files take ~100 KB of a 64-bit heap, docs/BENCHMARKS.md).
#
# Build, from a MicroPython checkout with ESP-IDF set up (not built on this project's machines, which have
# no ESP-IDF; docs/HARDWARE.md "Production image"):
#
#   make -C mpy-cross
#   make -C ports/esp32 BOARD=ESP32_GENERIC submodules
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/repo/firmware/manifest.py
#
# boot.py, main.py and config.json stay on the board's filesystem (main.py finds the frozen packages on the
# import path). Paths below are relative to this file's directory (firmware/).

# The port's own frozen modules (asyncio, ntptime, umqtt, mip, ...), as in the stock ESP32_GENERIC image.
include("$(PORT_DIR)/boards/manifest.py")  # noqa: F821 (the build defines the manifest functions)

package("core")  # noqa: F821
package("net")  # noqa: F821  (MQTT client, TLS and reconnects, DNS: firmware/net)
package("drivers")  # noqa: F821
# Only the ESP32 hardware: the simulator (hal/sim*.py) never runs on a board.
package("hal", files=["__init__.py", "esp32.py", "esp32_ble.py"])  # noqa: F821
# The wire contract, next to firmware/ in the repository and at the root of the board's import path.
package("shared_schema", base_path="..")  # noqa: F821
