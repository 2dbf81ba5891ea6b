"""Whether another process has a store folder open: RocksDB allows one writer per folder, and holds its ``LOCK``
file with a POSIX record lock for as long as the store is open.

Why ask before opening: the store is opened by the store worker, a child process; when the folder is taken (a
running ``dprk-kg serve`` on it), the worker dies at start-up with RocksDB's "While lock file … Resource temporarily
unavailable" and the caller sees a traceback. Asking first lets the CLI say, in one sentence, what is going on and
what to do instead. The test takes the same kind of lock RocksDB takes (``fcntl``), without blocking, and releases
it at once; the process asking never holds the store itself (its worker does), so releasing cannot drop a lock
that process relies on.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path


class StoreInUse(Exception):
    """The store folder is open in another process (``path``: the folder)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the store at {path} is in use by another process (a running dprk-kg serve?)")
        self.path = path


def ensure_free(store_dir: str | Path) -> None:
    """Raise :class:`StoreInUse` when another process holds the store in ``store_dir`` open.

    A folder without a store yet (no ``LOCK`` file) is free.
    """
    path = Path(store_dir)
    lock = path / "LOCK"
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return
    except PermissionError:
        return  # not ours to test: opening the store will say so
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise StoreInUse(path) from exc
        raise
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
