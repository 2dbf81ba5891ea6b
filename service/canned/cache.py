"""Caching until the next write, written once: values kept for one store write generation, and the canned-query
result cache built on it.

Why keyed on the store's write generation: any write may change any answer, so a value is valid only for the
generation it was computed at — the first look-up after a write empties the cache. Every cache of answers
computed from the store (canned-query bodies, the VoID description) is a :class:`GenerationCache`.

Why canned answers are whole bodies: canned queries are asked again and again with the same parameters
(dashboards, the UI's examples); answering from memory skips validation round trips, evaluation and
serialization. Large bodies are not kept, so the cache's memory stays bounded by ``size × max_entry_bytes``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


class GenerationCache(Generic[V]):
    """A thread-safe LRU of values computed at one store write generation (any write empties it).

    ``size`` 0 turns caching off. ``weigh`` gives a value's size and ``max_weight`` the largest value kept
    (larger ones are answered but not kept); ``budget`` bounds the weight of all values kept together (the least
    recently used go first), for caches whose values vary too much in size for a count to bound their memory.
    The caller reads the generation *before* computing a value, so a value computed while a write happened is
    never kept for the newer generation.
    """

    def __init__(self, size: int, *, weigh: Callable[[V], int] | None = None, max_weight: int | None = None,
                 budget: int | None = None) -> None:
        self.size = max(0, int(size))
        self.weigh = weigh
        self.max_weight = max_weight
        self.budget = budget
        self.weight = 0  # of the values kept (with ``weigh``)
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._generation: int | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _sync(self, generation: int) -> None:
        if generation != self._generation:
            self._entries.clear()
            self.weight = 0
            self._generation = generation

    def get(self, key: Hashable, generation: int) -> V | None:
        """The value for ``key`` computed at ``generation``, or ``None``."""
        if not self.size:
            return None
        with self._lock:
            self._sync(generation)
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, generation: int, value: V) -> None:
        """Keep ``value`` unless caching is off, it is too large, or a write happened since ``generation``."""
        if not self.size:
            return
        weigh = self.weigh
        weight = weigh(value) if weigh is not None else 0
        if weigh is not None and ((self.max_weight is not None and weight > self.max_weight)
                                  or (self.budget is not None and weight > self.budget)):
            return
        with self._lock:
            if self._generation is not None and generation < self._generation:
                return
            self._sync(generation)
            replaced = self._entries.pop(key, None)
            if replaced is not None and weigh is not None:
                self.weight -= weigh(replaced)
            self._entries[key] = value
            self.weight += weight
            while len(self._entries) > self.size or (self.budget is not None and self.weight > self.budget):
                _, evicted = self._entries.popitem(last=False)
                if weigh is not None:
                    self.weight -= weigh(evicted)

    def get_or_compute(self, key: Hashable, generation: int, compute: Callable[[], V]) -> V:
        """The cached value for ``key`` at ``generation``, else ``compute()`` — kept for next time."""
        value = self.get(key, generation)
        if value is None:
            value = compute()
            self.put(key, generation, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class CachedBody:
    """A response body and what is needed to send it again."""

    body: bytes
    media_type: str
    truncated: bool


class ResultCache(GenerationCache[CachedBody]):
    """The canned-query result cache: finished bodies keyed by query, parameters and format."""

    def __init__(self, size: int, max_entry_bytes: int = 1 << 20) -> None:
        super().__init__(size, weigh=lambda entry: len(entry.body), max_weight=max_entry_bytes)
        self.max_entry_bytes = max_entry_bytes
