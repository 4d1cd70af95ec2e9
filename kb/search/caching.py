"""A small thread-safe least-recently-used cache, for what queries compute again and again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


class LruCache(Generic[Key, Value]):
    """Keeps the `size` most recently used values: memory stays bounded whatever queries arrive."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Key, Value] = OrderedDict()
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def get_or_compute(self, key: Key, compute: Callable[[Key], Value]) -> Value:
        """The cached value of `key`, else `compute(key)`, remembered in place of the least recently used."""
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
        value = compute(key)  # outside the lock: two threads may compute one key, never block each other
        with self.lock:
            self.values[key] = value
            self.values.move_to_end(key)
            while len(self.values) > self.size:
                self.values.popitem(last=False)
        return value
