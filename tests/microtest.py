# A minimal test runner for the MicroPython interpreter (which has no unittest or pytest).
#
#   micropython -X heapsize=100K tests/microtest.py tests/shared_schema/test_vectors.py
#
# Imports the given test file as a module, calls every top-level function named test_* in name order,
# and prints one line per test and a closing "N passed, N failed" line. Exit status 1 if anything failed.
# The same files are plain pytest modules under CPython, so one test body serves both interpreters.
import sys


def _repo_root(path):
    # This file lives in <root>/tests/; MicroPython has no os.path, so split by hand.
    parts = path.replace("\\", "/").split("/")
    root = "/".join(parts[:-2])
    return root or "."


def _module_name(root, path):
    rel = path[len(root) + 1 :] if path.startswith(root + "/") else path
    if rel.endswith(".py"):
        rel = rel[:-3]
    return rel.replace("/", ".")


def _import(name):
    module = __import__(name)
    for part in name.split(".")[1:]:
        module = getattr(module, part)
    return module


def _interpreter():
    impl = sys.implementation
    version = ".".join(str(part) for part in impl.version[:3])
    return "%s %s (%s)" % (impl.name, version, sys.platform)


def run(path):
    root = _repo_root(__file__ if "/" in __file__ else "./" + __file__)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = _import(_module_name(root, path))
    names = sorted(name for name in dir(module) if name.startswith("test_"))
    passed = failed = 0
    for name in names:
        try:
            getattr(module, name)()
            passed += 1
            print("PASS", name)
        except Exception as exc:  # a failing test must not stop the others
            failed += 1
            print("FAIL", name, "-", type(exc).__name__, exc)
            sys.print_exception(exc) if hasattr(sys, "print_exception") else None
    print("%s: %s" % (path, _interpreter()))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0 and passed > 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: micropython tests/microtest.py TEST_FILE.py")
        sys.exit(2)
    sys.exit(0 if run(sys.argv[1]) else 1)
