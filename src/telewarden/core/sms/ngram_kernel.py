"""The SMS model's scoring kernel: hashed n-grams, counts and the dot product in one pass.

What belongs here: a compiled loop that, for each model text, walks its code points once,
hashes its character n-grams and Latin word n-grams exactly as
:func:`telewarden.core.sms.classifier.char_ngram_hashes` and
:func:`~telewarden.core.sms.classifier.word_ngram_hashes` do (the same wrapping 64-bit
multiply-xor, the same MurmurHash3 of each word's UTF-8 bytes, the same buckets), counts
each column and sums the TF-IDF dot product and squared norm of the row.

Why it exists. The NumPy path (``SmsModel._decision_block``) materialises a row, column and
count for every n-gram occurrence of a batch and sorts ``row << bits | column`` keys: on
~400-character messages that sort alone is about half the model's cost, because the keys
of a batch do not fit in cache. Here each message's ~2,000 keys are sorted in a scratch
buffer that stays in L1 (a three-pass radix sort, about half of the kernel's ~25 us on a
~400-character message; a bucket-then-insertion sort measured no faster), and nothing is
written back but two floats a row.

The result is bit-identical to the NumPy path, which stays the reference (training and
explanations need the positions it returns): columns are summed in ascending order within
the row, as NumPy's ``bincount`` of the sorted triples sums them, each term is the same
float64 product of the same float32 weight, and ``log(count) + 1`` comes from a table that
NumPy's own ``log`` filled (LLVM's ``log`` may differ from NumPy's SIMD one in the last
bit). Importing this module imports numba, and the first call loads the compiled kernel
from numba's on-disk cache (about 1.5 CPU s together on the project machine): callers load
it only for inputs large enough to repay that (see ``load_compiled_scoring``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["ngram_dots"]

_F = TypeVar("_F", bound=Callable[..., Any])

# The constants of classifier._HASH_MULT / _HASH_MIX (the hash is the same by construction;
# the equality test in tests/test_sms_kernel.py holds them together).
_MULT = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint64(0xFFFFFFFF)
_M1 = np.uint64(0xCC9E2D51)
_M2 = np.uint64(0x1B873593)
_EURO = 0x20AC
_POUND = 0xA3


def _compiled(function: _F) -> _F:
    """Numba-compile ``function`` to native code that releases the GIL, cached on disk.

    The cast keeps the signature for mypy (numba's decorators are untyped).
    """
    return cast(_F, numba.njit(cache=True, nogil=True)(function))


# ``_WORD_RE`` of the classifier below code point 256 (a-z, 0-9, $, ', £); above, only €.
_WORD_CHAR = np.zeros(256, dtype=np.bool_)
_WORD_CHAR[[ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789$'£"]] = True


@_compiled
def _rotl32(x: np.uint64, r: int) -> np.uint64:
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _MASK32


@_compiled
def _murmur_block(h: np.uint64, k: np.uint64) -> np.uint64:
    """One 4-byte block of MurmurHash3_x86_32, in 64-bit integers masked to 32 bits."""
    k = (k * _M1) & _MASK32
    k = _rotl32(k, 15)
    k = (k * _M2) & _MASK32
    h ^= k
    h = _rotl32(h, 13)
    return (h * np.uint64(5) + np.uint64(0xE6546B64)) & _MASK32


@_compiled
def _bucket(mixed: np.uint64, width: int, power_of_two: bool) -> int:
    if power_of_two:
        return int(mixed & np.uint64(width - 1))
    return int(mixed % np.uint64(width))


@_compiled
def _rows(
    cps: npt.NDArray[np.uint32],
    bounds: npt.NDArray[np.int64],
    shifts: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.float32],
    tf: npt.NDArray[np.float64],
    word_char: npt.NDArray[np.bool_],
    char_lo: int,
    char_hi: int,
    n_char: int,
    word_lo: int,
    word_hi: int,
    n_word: int,
    key_bits: int,
    dots: npt.NDArray[np.float64],
    squares: npt.NDArray[np.float64],
) -> None:
    n = len(bounds) - 1
    longest = 0
    for r in range(n):
        longest = max(longest, bounds[r + 1] - bounds[r])
    # Every position starts at most one n-gram of each order; a text has fewer tokens than
    # code points, so the same bound holds for word n-grams.
    per_position = max(char_hi - char_lo + 1, 0) + (max(word_hi - word_lo + 1, 0) if n_word else 0)
    keys = np.empty(longest * per_position + 1, dtype=np.int64)
    spare = np.empty_like(keys)
    tokens = np.empty(longest + 1, dtype=np.uint64)
    char_pow2 = n_char & (n_char - 1) == 0
    word_pow2 = n_word > 0 and n_word & (n_word - 1) == 0
    # LSD radix sort in equal digits of at most 8 bits: the histogram stays small next to a
    # short message's keys, and three passes cover the shipped 21-bit columns.
    passes = max((key_bits + 7) // 8, 1)
    digit = (key_bits + passes - 1) // passes
    radix = 1 << digit
    counts = np.empty(radix, dtype=np.int64)
    for r in range(n):
        start, end = bounds[r], bounds[r + 1]
        m = 0
        # Character n-grams: h_n = (h_{n-1} * MULT) xor (cp * MIX + n), wrapping, from 0.
        for i in range(start, end):
            h = np.uint64(0)
            for k in range(char_hi):
                j = i + k
                if j >= end:
                    break
                cp = np.uint64(cps[j])
                if cp == 0:
                    # NUL is the NumPy path's text separator: texts' own NULs read as spaces.
                    cp = np.uint64(32)
                h = (h * _MULT) ^ (cp * _MIX + np.uint64(k + 1))
                if k + 1 >= char_lo:
                    keys[m] = _bucket(h ^ (h >> np.uint64(31)), n_char, char_pow2)
                    m += 1
        if n_word:
            # Tokens: maximal runs of word characters, each hashed as its UTF-8 bytes.
            t = 0
            i = start
            while i < end:
                c = cps[i]
                if not ((c < 256 and word_char[c]) or c == _EURO):
                    i += 1
                    continue
                h = np.uint64(0)
                block = np.uint64(0)
                filled = 0
                total = 0
                while i < end:
                    c = cps[i]
                    # (The test that started the token: a token is never empty.)
                    if not ((c < 256 and word_char[c]) or c == _EURO):
                        break
                    if c < 128:
                        width, b = 1, np.uint64(c)
                    elif c == _POUND:
                        width, b = 2, np.uint64(0xA3C2)
                    else:
                        width, b = 3, np.uint64(0xAC82E2)
                    # The character's bytes, little end first, one at a time into the block.
                    for _ in range(width):
                        block |= (b & np.uint64(0xFF)) << np.uint64(8 * filled)
                        b >>= np.uint64(8)
                        filled += 1
                        total += 1
                        if filled == 4:
                            h = _murmur_block(h, block)
                            block = np.uint64(0)
                            filled = 0
                    i += 1
                if filled:
                    k1 = (block * _M1) & _MASK32
                    k1 = _rotl32(k1, 15)
                    h ^= (k1 * _M2) & _MASK32
                h ^= np.uint64(total) & _MASK32
                h ^= h >> np.uint64(16)
                h = (h * np.uint64(0x85EBCA6B)) & _MASK32
                h ^= h >> np.uint64(13)
                h = (h * np.uint64(0xC2B2AE35)) & _MASK32
                h ^= h >> np.uint64(16)
                tokens[t] = h
                t += 1
            for s in range(t):
                h = np.uint64(0)
                for k in range(word_hi):
                    if s + k >= t:
                        break
                    h = (h * _MULT) ^ (tokens[s + k] * _MIX + np.uint64(k + 1))
                    if k + 1 >= word_lo:
                        keys[m] = n_char + _bucket(h ^ (h >> np.uint64(31)), n_word, word_pow2)
                        m += 1
        # Ascending columns, as the NumPy path's sorted keys give them.
        src, dst = keys, spare
        for p in range(passes):
            low = p * digit
            counts[:] = 0
            for q in range(m):
                counts[(src[q] >> low) & (radix - 1)] += 1
            running = 0
            for d in range(radix):
                here = counts[d]
                counts[d] = running
                running += here
            for q in range(m):
                d = (src[q] >> low) & (radix - 1)
                dst[counts[d]] = src[q]
                counts[d] += 1
            src, dst = dst, src
        dot = 0.0
        square = 0.0
        shift = shifts[r]
        q = 0
        while q < m:
            col = src[q]
            run = 1
            while q + run < m and src[q + run] == col:
                run += 1
            q += run
            weight = tf[run - 1]
            dot += weight * np.float64(pairs[col + shift, 0])
            square += weight * weight * np.float64(pairs[col + shift, 1])
        dots[r] = dot
        squares[r] = square


_tf_table: npt.NDArray[np.float64] = np.zeros(0)


def _tf(size: int) -> npt.NDArray[np.float64]:
    """``log(count) + 1`` for counts 1..size at least, by NumPy's ``log`` (grown on demand)."""
    global _tf_table
    if len(_tf_table) < size:
        counts = np.arange(1, max(size, 2 * len(_tf_table), 4096) + 1, dtype=np.int64)
        table = np.log(counts)
        table += 1.0
        _tf_table = table
    return _tf_table


def ngram_dots(
    texts: list[str],
    shifts: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.float32],
    char_ngrams: tuple[int, int],
    char_bits: int,
    word_ngrams: tuple[int, int] | None,
    word_bits: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per model text: sum of ``tf x pairs[col, 0]`` and of ``tf**2 x pairs[col, 1]``.

    ``tf`` is ``log(count) + 1`` of each distinct column the text's n-grams hash to (char
    n-gram columns first, word n-gram columns after ``2**char_bits``), ``col`` is that column
    plus the text's entry of ``shifts`` (its script block). The same values, bit for bit, as
    the NumPy path's ``bincount`` over the sorted (row, column, count) triples.
    """
    n = len(texts)
    dots = np.zeros(n, dtype=np.float64)
    squares = np.zeros(n, dtype=np.float64)
    if n == 0:
        return dots, squares
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    n_char = 1 << char_bits
    word_lo, word_hi = word_ngrams if word_ngrams else (1, 0)
    n_word = (1 << word_bits) if word_ngrams else 0
    orders = max(char_ngrams[1] - char_ngrams[0] + 1, 0) + max(word_hi - word_lo + 1, 0)
    tf = _tf(int(lengths.max()) * orders + 1)
    key_bits = max(n_char + n_word - 1, 1).bit_length()
    _rows(
        cps,
        bounds,
        shifts,
        pairs,
        tf,
        _WORD_CHAR,
        char_ngrams[0],
        char_ngrams[1],
        n_char,
        word_lo,
        word_hi,
        n_word,
        key_bits,
        dots,
        squares,
    )
    return dots, squares
