"""Subscriber numbers as keyed hashes: the key ring and the one hash function the stores use.

The decision log and the opt-in audit records keep a subscriber number only as
``k<id>:<hex>``: HMAC-SHA256 of the number under the key ``<id>`` of the carrier's
:class:`KeyRing`, cut to 40 hex digits (160 bits). Without the key nobody can test a guessed
number against the log (the whole numbering plan is only about 10**11 numbers, so a plain hash
would be reversed by enumeration); with the key, a look-up by number hashes it under every key
of the ring and matches the rows written before and after a rotation.

Rotation (``docs/privacy.md``): a new key becomes current, the old one stays in the ring as
retired until the decision-log retention has purged every row written under it, then it is
dropped. Audit rows are hash-chained and never rewritten, so an opt-in's history written under
a dropped key can no longer be found by number (it is still verifiable and readable).

Examples
--------
>>> ring = KeyRing(NumberKey("2", b"n" * 32), retired=(NumberKey("1", b"o" * 32),))
>>> number_key(ring, "+8613800138000")[:3]
'k2:'
>>> [k[:3] for k in number_keys(ring, "+8613800138000")]
['k2:', 'k1:']
>>> is_number_key(number_key(ring, "+8613800138000"))
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telewarden.core.errors import InvalidInputError

__all__ = [
    "KeyRing",
    "NumberKey",
    "clear_forms",
    "is_number_key",
    "number_key",
    "number_keys",
    "redact_numbers",
]

_KEY_ID = re.compile(r"[a-z0-9]{1,8}")
_HASHED = re.compile(r"k[a-z0-9]{1,8}:[0-9a-f]{40}")
MIN_SECRET_BYTES = 16
"""128 bits: the least secret a key may carry."""
HEX_DIGITS = 40
"""160 bits of the HMAC kept: short enough for the 64-character number columns."""
MIN_SUBSTRING = 5
"""Clear forms at least this long are also replaced inside longer texts (trace details,
messages); shorter ones (``110``) only where a whole value equals them."""


@dataclass(frozen=True, slots=True)
class NumberKey:
    """One key of the ring: a short id (stored in every hash) and its secret.

    Parameters
    ----------
    key_id
        1-8 lowercase letters or digits, unique in the ring.
    secret
        At least 16 bytes.
    """

    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise InvalidInputError(
                f"number key id {self.key_id!r} must be 1-8 lowercase letters or digits"
            )
        if len(self.secret) < MIN_SECRET_BYTES:
            raise InvalidInputError(
                f"number key {self.key_id!r}: the secret must be at least "
                f"{MIN_SECRET_BYTES} bytes, not {len(self.secret)}"
            )

    @classmethod
    def from_spec(cls, spec: str) -> NumberKey:
        """Parse ``ID:SECRET`` (the settings' form; the secret is taken as UTF-8 text).

        Examples
        --------
        >>> NumberKey.from_spec("3:" + "ab" * 16).key_id
        '3'
        """
        key_id, sep, secret = spec.strip().partition(":")
        if not sep:
            raise InvalidInputError("a number key is written ID:SECRET")
        return cls(key_id, secret.encode("utf-8"))

    def __repr__(self) -> str:  # never print the secret
        return f"NumberKey({self.key_id!r}, <secret>)"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The current key (writes) and the retired keys (look-ups only), ids all distinct."""

    current: NumberKey
    retired: tuple[NumberKey, ...] = ()

    def __post_init__(self) -> None:
        ids = [k.key_id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise InvalidInputError(f"number key ids must be distinct, got {ids}")

    @property
    def keys(self) -> tuple[NumberKey, ...]:
        """Every key, the current one first."""
        return (self.current, *self.retired)


def _digest(key: NumberKey, msisdn: str) -> str:
    mac = hmac.new(key.secret, ("msisdn:" + msisdn.strip()).encode("utf-8"), hashlib.sha256)
    return f"k{key.key_id}:{mac.hexdigest()[:HEX_DIGITS]}"


def number_key(ring: KeyRing, msisdn: str) -> str:
    """The stored form of ``msisdn`` (stripped) under the ring's current key."""
    return _digest(ring.current, msisdn)


def number_keys(ring: KeyRing, msisdn: str) -> list[str]:
    """The stored forms of ``msisdn`` under every key of the ring (for look-ups)."""
    return [_digest(k, msisdn) for k in ring.keys]


def is_number_key(text: str) -> bool:
    """Whether ``text`` is a stored number hash (``k<id>:<40 hex>``)."""
    return _HASHED.fullmatch(text) is not None


def redact_numbers(value: Any, replacements: Mapping[str, str]) -> Any:
    """``value`` (JSON-like) with every clear form in ``replacements`` replaced by its hash.

    A string equal to a form is replaced whole; forms of at least five characters are also
    replaced inside longer strings (longest first, in one pass). Dict keys are kept.

    Examples
    --------
    >>> redact_numbers({"a": ["13800138000", "call to 13800138000"], "n": 3}, {"13800138000": "H"})
    {'a': ['H', 'call to H'], 'n': 3}
    """
    forms = tuple(
        sorted((f for f in replacements if len(f) >= MIN_SUBSTRING), key=len, reverse=True)
    )
    return _Redactor(replacements, forms).redact(value)


class _Redactor:
    """One redaction pass; the regex is compiled only when a text holds a form (rarely)."""

    def __init__(self, replacements: Mapping[str, str], forms: tuple[str, ...]) -> None:
        self.replacements = replacements
        self.forms = forms
        self.pattern: re.Pattern[str] | None = None

    def redact(self, value: Any) -> Any:
        if isinstance(value, str):
            if value in self.replacements:
                return self.replacements[value]
            if not any(form in value for form in self.forms):
                return value
            if self.pattern is None:
                self.pattern = re.compile("|".join(re.escape(f) for f in self.forms))
            return self.pattern.sub(lambda m: self.replacements[m.group()], value)
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(v) for v in value]
        return value


def clear_forms(*texts: str | None) -> list[str]:
    """The clear forms of a number to redact: each text stripped, and its digits alone.

    Examples
    --------
    >>> clear_forms("+86 138 0013 8000", None, "")
    ['+86 138 0013 8000', '8613800138000']
    """
    forms: list[str] = []
    for text in texts:
        if not text or not text.strip():
            continue
        for form in (text, text.strip(), re.sub(r"\D", "", text)):
            if form and form not in forms and (form == text.strip() or len(form) >= MIN_SUBSTRING):
                forms.append(form)
    return forms
