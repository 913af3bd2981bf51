# A RAM block device for vfs.VfsLfs2 that can lose power after N written bytes (power-cut tests).
import vfs


class PowerCut(OSError):
    pass

class CutDevice:
    """Block device for vfs.VfsLfs2 in RAM. After `budget` written bytes (an erase counts as one) every
    write fails: the write in flight lands only partly, like flash losing power mid-program.

    LittleFS may call it with the heap locked (a file finalised by the GC), so the hot paths avoid
    allocating; `dead` makes a discarded device ignore everything, so a file object left open by an
    earlier run (closed later by its finaliser) can never write into a later run's flash."""

    def __init__(self, block_size=512, blocks=128, data=None):
        # data: an existing bytearray to use as the flash (shared between runs to spare the heap)
        self.block_size = block_size
        self.blocks = blocks
        self.data = data if data is not None else bytearray(block_size * blocks)
        self.budget = None
        self.written = 0
        self.boundaries = None  # list: cumulative byte count after each write call, when recording
        self.dead = False
        self._erased = b"\xff" * block_size

    def readblocks(self, block, buf, offset=0):
        if self.dead:
            return  # a finaliser of a discarded run: touch nothing, allocate nothing
        start = block * self.block_size + offset
        try:
            buf[:] = self.data[start : start + len(buf)]
        except MemoryError:  # heap locked: copy without allocating
            data = self.data
            for i in range(len(buf)):
                buf[i] = data[start + i]

    def _spend(self, amount):
        if self.budget is None:
            self.written += amount
            if self.boundaries is not None:
                self.boundaries.append(self.written)
            return amount
        allowed = self.budget - self.written
        if allowed <= 0:
            raise PowerCut(5)
        used = min(amount, allowed)
        self.written += used
        return used

    def writeblocks(self, block, buf, offset=None):
        if self.dead:
            return
        start = block * self.block_size + (offset or 0)
        used = self._spend(len(buf))
        data = self.data
        if used == len(buf):
            data[start : start + used] = buf
            return
        for i in range(used):  # torn write: only the first bytes land
            data[start + i] = buf[i]
        raise PowerCut(5)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase
            if self.dead:
                return 0
            self._spend(1)
            start = arg * self.block_size
            self.data[start : start + self.block_size] = self._erased
            return 0
        return 0

def mount(device, point, fresh=False):
    if fresh:
        vfs.VfsLfs2.mkfs(device)
    vfs.mount(vfs.VfsLfs2(device), point)

def umount(point):
    try:
        vfs.umount(point)
    except OSError:
        pass
