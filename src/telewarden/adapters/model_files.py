"""Integrity checks shared by the model files: checksums and bounded decompression.

A model file is checked before any native library (NumPy's zip reader, LightGBM's model
parser) sees its contents: the decompressed size is bounded (a 400 KB gzip bomb must not cost a
gigabyte), the layout and sizes are checked against the format, and the payload's SHA-256 is
compared with the one written beside it. Any failure is one
:class:`~telewarden.core.errors.ConfigurationError` (CLI exit 3) naming the file.

Rule for files written before checksums existed (SMS ``.npz`` format 1, number models without
the ``file_version`` envelope): they are still read, after the same layout and size checks,
without a checksum. Saving such a model again (``load_model`` then ``save_model``) adds one.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable

from telewarden.core.errors import ConfigurationError

__all__ = ["MAX_DECOMPRESSED_BYTES", "gunzip_bounded", "sha256_of"]

MAX_DECOMPRESSED_BYTES = 256 << 20
"""No model telewarden writes comes near this (the shipped ones decompress to under 40 MB)."""


def gunzip_bounded(blob: bytes, origin: str, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """The decompressed bytes of a gzip ``blob``, refusing more than ``limit`` bytes.

    Raises
    ------
    ConfigurationError
        When ``blob`` is not complete gzip data or would decompress past ``limit``.

    Examples
    --------
    >>> import gzip
    >>> gunzip_bounded(gzip.compress(b"abc"), "m")
    b'abc'
    >>> gunzip_bounded(gzip.compress(bytes(1000)), "m", limit=100)
    Traceback (most recent call last):
    ...
    telewarden.core.errors.ConfigurationError: m: decompresses to more than 100 bytes (a damaged file or a gzip bomb)
    """  # noqa: E501
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(blob, limit + 1)
    except zlib.error as exc:
        raise ConfigurationError(f"{origin}: damaged gzip data ({exc})") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise ConfigurationError(
            f"{origin}: decompresses to more than {limit} bytes (a damaged file or a gzip bomb)"
        )
    if not inflater.eof:
        raise ConfigurationError(f"{origin}: truncated gzip data")
    return out


def sha256_of(parts: Iterable[bytes]) -> str:
    """Hex SHA-256 of the concatenated ``parts``."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()
