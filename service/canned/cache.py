"""The canned-query result cache: finished response bodies, keyed by query, parameters and format.

Why whole bodies: canned queries are asked again and again with the same parameters
(dashboards, the UI's examples); answering from memory skips validation round trips,
evaluation and serialization. Why keyed on the store's write generation: any write may
change any answer, so an entry is valid only for the generation it was computed at —
the first request after a write clears the cache. Large bodies are not kept, so the
cache's memory stays bounded by ``size × max_entry_bytes``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedBody:
    """A response body and what is needed to send it again."""

    body: bytes
    media_type: str
    truncated: bool


class ResultCache:
    """A thread-safe LRU of :class:`CachedBody`, emptied whenever the store generation changes."""

    def __init__(self, size: int, max_entry_bytes: int = 1 << 20) -> None:
        self.size = max(0, int(size))
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[Hashable, CachedBody] = OrderedDict()
        self._generation: int | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _sync(self, generation: int) -> None:
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation

    def get(self, key: Hashable, generation: int) -> CachedBody | None:
        """The entry for ``key`` computed at ``generation``, or ``None``."""
        if not self.size:
            return None
        with self._lock:
            self._sync(generation)
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, generation: int, entry: CachedBody) -> None:
        """Keep ``entry`` unless caching is off, it is too large, or a write happened meanwhile."""
        if not self.size or len(entry.body) > self.max_entry_bytes:
            return
        with self._lock:
            if self._generation is not None and generation < self._generation:
                return
            self._sync(generation)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
