"""Warning sinks (SMS outbox, call list, app-push webhook) and the warning run's output files.

Every file is written to a temporary name in its folder and renamed into place, so a reader
never sees half a call list. The webhook uses the standard library's ``urllib`` (no extra
dependency): one JSON ``POST`` per warning, a short timeout, and a refusal is counted, never
raised, so a push outage does not stop SMS warnings.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from telewarden.core.ports import Flag
from telewarden.core.warning import QueueEntry, WarningNotice

__all__ = [
    "CallListSink",
    "MemorySink",
    "SmsOutboxSink",
    "WebhookSink",
    "read_flags",
    "write_queue",
    "write_warnings",
]


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_csv(tmp)
    os.replace(tmp, path)
    return path


class MemorySink:
    """Keeps what it is given (tests, and the live loop's in-process consumers)."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.delivered: list[WarningNotice] = []

    def deliver(self, warning: WarningNotice) -> bool:
        """Keep the warning."""
        self.delivered.append(warning)
        return True

    def close(self) -> None:
        """Nothing to flush."""


class SmsOutboxSink:
    """The warning SMS to send: one row per warning with its send time and both texts."""

    name = "sms"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: list[dict[str, object]] = []

    def deliver(self, warning: WarningNotice) -> bool:
        """Queue the SMS of ``warning``."""
        if "sms" not in warning.channels:
            return False
        self._rows.append(
            {
                "send_at": warning.send_at.isoformat(),
                "msisdn": warning.msisdn,
                "warning_id": warning.warning_id,
                "template": warning.template,
                "text_zh": warning.text_zh,
                "text_en": warning.text_en,
            }
        )
        return True

    def close(self) -> None:
        """Write the outbox, ordered by send time."""
        schema = ["send_at", "msisdn", "warning_id", "template", "text_zh", "text_en"]
        frame = (
            pl.DataFrame(self._rows, schema=schema)
            if self._rows
            else pl.DataFrame(schema={c: pl.String for c in schema})
        )
        _write_csv(frame.sort("send_at"), self.path)


class CallListSink:
    """The call list for human warning calls: who, when, why, highest risk first per hour."""

    name = "call"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: list[dict[str, object]] = []

    def deliver(self, warning: WarningNotice) -> bool:
        """Add the subscriber of a ``high`` warning to the call list."""
        if warning.call_at is None:
            return False
        self._rows.append(
            {
                "call_at": warning.call_at.isoformat(),
                "msisdn": warning.msisdn,
                "risk": warning.risk,
                "fraud_type": warning.fraud_type,
                "signal": warning.signal,
                "reasons": "; ".join(warning.reasons),
                "warning_id": warning.warning_id,
                "script_zh": warning.text_zh,
            }
        )
        return True

    def close(self) -> None:
        """Write the list ordered by due time, then risk."""
        schema: dict[str, type[pl.DataType]] = {
            "call_at": pl.String,
            "msisdn": pl.String,
            "risk": pl.Float64,
            "fraud_type": pl.String,
            "signal": pl.String,
            "reasons": pl.String,
            "warning_id": pl.String,
            "script_zh": pl.String,
        }
        frame = pl.DataFrame(self._rows, schema=schema)
        frame = frame.with_columns(pl.col("call_at").str.slice(0, 13).alias("_hour")).sort(
            ["_hour", "risk"], descending=[False, True]
        )
        _write_csv(frame.drop("_hour"), self.path)


class WebhookSink:
    """App push: POST each warning as JSON to the carrier's app push service.

    Parameters
    ----------
    url : str
        The endpoint (``http`` or ``https``).
    timeout_s : float
        Per request.
    headers : mapping, optional
        Extra headers (an authorisation token, say).
    """

    name = "push"

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, headers: Mapping[str, str] | None = None
    ) -> None:
        if not url.startswith(("http://", "https://")):
            from telewarden.core.errors import InvalidInputError

            raise InvalidInputError(f"webhook URL must be http or https: {url!r}")
        self.url = url
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self.sent = 0
        self.failed = 0

    def deliver(self, warning: WarningNotice) -> bool:
        """POST the warning; False (and counted) when the service refuses or is unreachable."""
        if "push" not in warning.channels:
            return False
        body = {
            "warning_id": warning.warning_id,
            "msisdn": warning.msisdn,
            "send_at": warning.send_at.isoformat(),
            "fraud_type": warning.fraud_type,
            "band": warning.band,
            "title_zh": "反诈预警",
            "title_en": "Anti-fraud alert",
            "text_zh": warning.text_zh,
            "text_en": warning.text_en,
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8", **self.headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                ok = bool(200 <= response.status < 300)
        except (urllib.error.URLError, TimeoutError, OSError):
            ok = False
        if ok:
            self.sent += 1
        else:
            self.failed += 1
        return ok

    def close(self) -> None:
        """Nothing buffered."""


def write_warnings(path: Path, warnings: Iterable[WarningNotice]) -> Path:
    """All warnings of a run as CSV (the reasons joined by ``; ``)."""
    columns = list(WarningNotice.__dataclass_fields__)
    rows = []
    for w in warnings:
        row = w.as_dict()
        row["reasons"] = "; ".join(w.reasons)
        row["channels"] = ",".join(w.channels)
        rows.append({c: None if row[c] is None else str(row[c]) for c in columns})
    return _write_csv(pl.DataFrame(rows, schema={c: pl.String for c in columns}), path)


def write_queue(path: Path, entries: Iterable[QueueEntry]) -> Path:
    """The prioritised queue as CSV: every assessed exposure, highest risk first."""
    schema: dict[str, type[pl.DataType]] = {
        "msisdn": pl.String,
        "subject": pl.String,
        "fraud_type": pl.String,
        "at": pl.String,
        "risk": pl.Float64,
        "band": pl.String,
        "signal": pl.String,
        "decision": pl.String,
        "reasons": pl.String,
    }
    rows = [
        {
            "msisdn": e.msisdn,
            "subject": e.subject,
            "fraud_type": e.fraud_type,
            "at": e.at.isoformat(),
            "risk": e.risk,
            "band": e.band,
            "signal": e.signal,
            "decision": e.decision,
            "reasons": "; ".join(e.reasons),
        }
        for e in entries
    ]
    return _write_csv(pl.DataFrame(rows, schema=schema), path)


FLAG_COLUMNS = ("subject", "kind", "source", "at", "reason")
"""Required columns of a flag file; ``fraud_type``, ``campaign`` and ``score`` are optional."""


def read_flags(path: Path) -> tuple[list[Flag], list[tuple[int, str]]]:
    """Read a CSV of flags (from lists, cases or another system).

    Returns the flags and the rejected rows as ``(line, reason)``; a file that cannot be read
    at all, or lacks a required column, raises ``InvalidInputError``.
    """
    import datetime as dt

    from telewarden.core.errors import InvalidInputError

    if not path.is_file():
        raise InvalidInputError(f"no such flag file: {path}")
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # polars raises several kinds for a malformed file
        raise InvalidInputError(f"{path}: not a readable CSV file ({exc})") from exc
    missing = [c for c in FLAG_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{path}: missing column(s) {', '.join(missing)}")
    flags: list[Flag] = []
    rejected: list[tuple[int, str]] = []
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        subject = (row["subject"] or "").strip()
        kind = (row["kind"] or "").strip()
        if not subject:
            rejected.append((line, "empty subject"))
            continue
        if kind not in ("msisdn", "sender", "domain", "wallet"):
            rejected.append((line, f"kind {kind!r} is not msisdn, sender, domain or wallet"))
            continue
        try:
            at = dt.datetime.fromisoformat((row["at"] or "").strip())
        except ValueError:
            rejected.append((line, f"at {row['at']!r} is not an ISO 8601 time"))
            continue
        if at.tzinfo is None:
            rejected.append((line, "at has no time zone"))
            continue
        evidence = {k: row[k] for k in ("fraud_type", "campaign") if row.get(k)}
        score = row.get("score")
        flags.append(
            Flag(
                subject=subject.lower() if kind == "domain" else subject,
                kind=kind,
                source=(row["source"] or "file").strip(),
                at=at.astimezone(dt.UTC),
                reason=(row["reason"] or "").strip(),
                score=float(score) if score else None,
                evidence=evidence,
            )
        )
    return flags, rejected
