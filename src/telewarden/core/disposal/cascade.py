"""The cascade to linked internet accounts (AFL Art. 22, O10): messages, signatures, backoff.

When a card is disposed of as fraud-involved, every platform holding an account registered with
it is told, so it can re-verify or restrict the account; when the measure is lifted, it is told
again. Messages go through a transactional outbox (written in the same transaction as the
measure) and a worker delivers them as signed webhooks.

Wire protocol (one POST per message)::

    POST <platform url>
    Content-Type: application/json
    X-Telewarden-Timestamp: <unix seconds>
    X-Telewarden-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    Idempotency-Key: <key: the same on every retry of one message>

    200 {"ack": "<action the platform took>"}   delivered; any other status is retried

A receiver rejects a signature that does not match and a timestamp outside its replay window,
and answers a key it has seen with its first answer (so a re-send after a crash is harmless).

Examples
--------
>>> headers = sign(b"secret", b'{"a":1}', timestamp=1_700_000_000)
>>> verify_signature(b"secret", b'{"a":1}', headers, now=1_700_000_100)
True
>>> verify_signature(b"secret", b'{"a":2}', headers, now=1_700_000_100)
False
>>> backoff_s(1, base_s=2.0, cap_s=600.0), backoff_s(20, base_s=2.0, cap_s=600.0)
(2.0, 600.0)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CascadeMessage",
    "LinkedAccount",
    "MessageKind",
    "OutboxState",
    "Reconciliation",
    "backoff_s",
    "canonical_body",
    "disposes",
    "idempotency_key",
    "sign",
    "verify_signature",
]

TIMESTAMP_HEADER = "X-Telewarden-Timestamp"
SIGNATURE_HEADER = "X-Telewarden-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAY_WINDOW_S = 300


class MessageKind(StrEnum):
    """What the platform is told."""

    DISPOSED = "disposed"
    LIFTED = "lifted"


class OutboxState(StrEnum):
    """Where an outbox message stands; ``dead`` ones sit in the dead-letter table too."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    """An internet account registered with a number, as a partner platform reported it."""

    platform: str
    account: str
    msisdn: str


@dataclass(frozen=True, slots=True)
class CascadeMessage:
    """One message to one platform about one account."""

    key: str
    platform: str
    account: str
    msisdn: str
    case_id: str
    measure_id: str
    kind: MessageKind
    payload: dict[str, Any]


def idempotency_key(platform: str, account: str, measure_id: str, kind: MessageKind) -> str:
    """A stable key per (platform, account, measure, kind): a retry reuses it."""
    raw = f"{platform}\x1f{account}\x1f{measure_id}\x1f{kind}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def canonical_body(payload: dict[str, Any]) -> bytes:
    """The JSON body as signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: bytes, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The timestamp and signature headers for ``body``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"v1={mac}"}


def verify_signature(
    secret: bytes,
    body: bytes,
    headers: dict[str, str],
    *,
    now: float,
    window_s: int = REPLAY_WINDOW_S,
) -> bool:
    """Whether ``headers`` sign ``body`` under ``secret`` within the replay window of ``now``."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or not given.startswith("v1="):
        return False
    if abs(now - int(stamp)) > window_s:
        return False
    expected = sign(secret, body, timestamp=int(stamp))[SIGNATURE_HEADER]
    return hmac.compare_digest(expected, given)


def backoff_s(attempt: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): doubling, capped."""
    return float(min(cap_s, base_s * 2 ** max(0, min(attempt - 1, 40))))


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Cards disposed, accounts notified, acknowledged, acted on, failed.

    ``messages == delivered + dead + pending``: every message is in exactly one state.
    """

    cards_disposed: int
    cards_with_accounts: int
    messages: int
    accounts_notified: int
    delivered: int
    acknowledged: int
    acted_on: int
    dead: int
    pending: int
    by_platform: dict[str, dict[str, int]]

    @property
    def reconciles(self) -> bool:
        """Whether the states account for every message."""
        return self.messages == self.delivered + self.dead + self.pending

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "cards_disposed": self.cards_disposed,
            "cards_with_accounts": self.cards_with_accounts,
            "messages": self.messages,
            "accounts_notified": self.accounts_notified,
            "delivered": self.delivered,
            "acknowledged": self.acknowledged,
            "acted_on": self.acted_on,
            "dead": self.dead,
            "pending": self.pending,
            "reconciles": self.reconciles,
            "by_platform": self.by_platform,
        }


def disposes(kind: str, *, blocks_while_pending: bool) -> bool:
    """Whether a measure of ``kind`` in force disposes of the card (and so is cascaded).

    Restriction and suspension do; so does a re-verification that blocks traffic until the
    subscriber verifies. A warning or a non-blocking re-verification does not.

    Examples
    --------
    >>> disposes("suspend", blocks_while_pending=False), disposes("reverify", blocks_while_pending=False)
    (True, False)
    """
    return kind in ("restrict", "suspend") or (kind == "reverify" and blocks_while_pending)
