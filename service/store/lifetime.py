"""Child processes that die with their parent, so a killed service never leaves an orphan holding the store.

Why here: the store worker (child of the web process) needs it. On Linux ``PR_SET_PDEATHSIG`` kills the child
the moment its parent dies, even by ``kill -9``; a watch thread covers other systems (and
the case where the parent died before the request). Note that the death signal follows the
parent *thread* that forked: see :class:`service.store.client.StoreClient`, which therefore
starts its worker from one long-lived thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time


def die_with_parent(parent: int | None = None, poll: float = 0.5) -> None:
    """Be killed when the parent process dies; ``parent``: its pid if known (default: the current one).

    Exits at once if the parent is already gone (our parent is then no longer ``parent``).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    parent = parent or os.getppid()
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``); elsewhere nothing happens.

    Why: start-up is the process's peak — the first bulk load, deriving and compacting the store in the store
    worker; importing and building the app in the web worker. What it freed stays mapped by glibc's allocator
    and counts as resident for the service's whole life unless it is handed back once, when start-up is over.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
