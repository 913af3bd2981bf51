# The lock's network side on the real MicroPython interpreter, driven by the tests in this folder:
#
#   micropython -X heapsize=128K tests/fwnet/mp_lock_agent.py CONFIG.json [--with-core] [--code DIR]
#
# --with-core imports core.app first, into a fresh heap, as the firmware's main.py does: the firmware's own
# modules then share the heap as on a lock. This file stays this small because a script is compiled whole
# before it runs, and compiling the core needs most of a 128K heap for a moment; the agent (lock_agent.py)
# is imported afterwards.
import sys

sys.path.insert(0, "firmware")
sys.path.insert(0, ".")
if "--code" in sys.argv:  # a directory of .mpy files (mpy-cross), as a lock's flash holds them
    sys.path.insert(0, sys.argv[sys.argv.index("--code") + 1])

import gc  # noqa: E402

gc.collect()
_start_free = gc.mem_free()
if "--with-core" in sys.argv:
    import core.app  # noqa: E402, F401

from tests.fwnet import lock_agent  # noqa: E402

lock_agent.main(sys.argv[1], _start_free)
