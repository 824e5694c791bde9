"""Seeded draws: the fake's one source of randomness. Pure.

Faults drawn at random (:meth:`FakeShopServer.fault_rate`) and the sample data both come
from here, so a run is a pure function of its seed and ids, whatever the concurrency.
"""

from __future__ import annotations

from typing import Final

__all__ = ["draw"]

_MASK64: Final = (1 << 64) - 1


def draw(*keys: int) -> float:
    """A uniform float in [0, 1) that depends only on ``keys`` (splitmix64 mixing).

    Stable across processes and Python versions, unlike ``hash`` of strings, and far
    cheaper than seeding a ``random.Random`` per request.
    """
    h = 0x9E3779B97F4A7C15
    for key in keys:
        h = (h ^ (key & _MASK64)) + 0x9E3779B97F4A7C15 & _MASK64
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK64
        h ^= h >> 31
    return (h >> 11) * (1.0 / (1 << 53))
