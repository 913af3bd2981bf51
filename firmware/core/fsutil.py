# Small filesystem helpers shared by the stores (MicroPython has no os.path).
#
# Durability model (LittleFS v2, the ESP32 default): a file's new content becomes durable at close(), and
# os.rename() replaces the destination atomically. So every "replace this file" is: write NAME.tmp, close,
# rename onto NAME. A power cut leaves either the old or the new file, never a mix.
import os


def join(directory, name):
    if not directory or directory == ".":
        return name
    return directory.rstrip("/") + "/" + name


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def remove(path):
    # Missing files are fine: removal is used for cleanup after an interrupted update.
    try:
        os.remove(path)
    except OSError:
        pass


def makedirs(path):
    # Create each missing level; MicroPython's os has no makedirs.
    if not path or exists(path):
        return
    parts = path.split("/")
    current = "/" if path.startswith("/") else ""
    for part in parts:
        if not part:
            continue
        current = current + part if current in ("", "/") else current + "/" + part
        if not exists(current):
            os.mkdir(current)


def write_atomic(path, data):
    """Replace `path` with `data` (bytes) so that a power cut leaves the old or the new content."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def read_all(path):
    """Whole content of a small file, or None if it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None
