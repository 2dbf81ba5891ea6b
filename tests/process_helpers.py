"""Is a process still running, and which processes did it start: read from /proc, for the tests that
check no process outlives the one that started it (store workers, server workers)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, from the state on; None if it is gone.

    The command name is in parentheses and may itself hold spaces or ')', so the fields are read
    after the last ')' (splitting the whole line on spaces would misread such a process).
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """True while ``pid`` runs; False once it has exited (gone, or a zombie not yet reaped)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (zombies included: they are still its children)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: its children, their children, and so on."""
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """Poll until none of ``pids`` runs; the ones still running after ``timeout`` seconds (empty: all gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def store_workers() -> set[int]:
    """The store worker processes started by this (test) process that are still running."""
    found = set()
    for pid in children(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"service.store.worker" in command and alive(pid):
            found.add(pid)
    return found
