"""The Philox4x32-10 counter-based generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC'11) as TensorFlow seeds and steps it, so ShuffleDataset draws the same numbers as TensorFlow and shuffles
into the same order. Blocks of 128 bits are computed with NumPy, many counters at a time."""

from __future__ import annotations

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = 0xFFFFFFFF
_ROUNDS = 10
_BLOCKS_PER_REFILL = 64


def _philox_blocks(counter: int, key: tuple[int, int], n: int) -> np.ndarray:
    """The outputs for the 128-bit counters counter .. counter + n - 1: an [n, 4] uint32 array."""
    ctrs = [(counter + i) % (1 << 128) for i in range(n)]
    c = [np.array([(x >> (32 * w)) & _MASK32 for x in ctrs], dtype=np.uint64) for w in range(4)]
    k0, k1 = key
    mask = np.uint64(_MASK32)
    shift = np.uint64(32)
    for r in range(_ROUNDS):
        p0 = _M0 * c[0]
        p1 = _M1 * c[2]
        c = [((p1 >> shift) ^ c[1] ^ np.uint64(k0)) & mask, p1 & mask,
             ((p0 >> shift) ^ c[3] ^ np.uint64(k1)) & mask, p0 & mask]
        if r < _ROUNDS - 1:
            k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
    return np.stack(c, axis=1).astype(np.uint32)


class PhiloxStream:
    """TF's `SingleSampleAdapter<PhiloxRandom>`: uint32 samples one at a time, from a generator seeded with
    `PhiloxRandom(seed_lo, seed_hi)` (key from seed_lo, upper counter words from seed_hi)."""

    __slots__ = ("_key", "_counter", "_buffer", "_pos")

    def __init__(self, seed_lo: int, seed_hi: int) -> None:
        seed_lo %= 1 << 64
        seed_hi %= 1 << 64
        self._key = (seed_lo & _MASK32, seed_lo >> 32)
        self._counter = seed_hi << 64
        self._buffer: list[int] = []
        self._pos = 0

    def __call__(self) -> int:
        if self._pos >= len(self._buffer):
            self._buffer = _philox_blocks(self._counter, self._key, _BLOCKS_PER_REFILL).reshape(-1).tolist()
            self._counter = (self._counter + _BLOCKS_PER_REFILL) % (1 << 128)
            self._pos = 0
        v = self._buffer[self._pos]
        self._pos += 1
        return v


# The fixed key with which TF's stateless random ops scramble their seed pair into a Philox key and counter.
_STATELESS_KEY = (0x3EC8F720, 0x02461E29)


def stateless_stream(seed0: int, seed1: int) -> PhiloxStream:
    """The generator TF's stateless random ops use for the seed pair (seed0, seed1): one Philox block of the
    pair under a fixed key gives the key (first two words) and the upper counter (last two words)."""
    counter = (seed0 % (1 << 64)) | ((seed1 % (1 << 64)) << 64)
    mix = [int(x) for x in _philox_blocks(counter, _STATELESS_KEY, 1)[0]]
    return PhiloxStream(mix[0] | (mix[1] << 32), mix[2] | (mix[3] << 32))
