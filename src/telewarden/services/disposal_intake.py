"""Read flags, cards and linked accounts from files for the disposal use cases.

Flags come from the files ``telewarden detect`` writes (``alerts.csv``: detector flags;
``scores.csv``: the scorer). Cards come from a subscribers table (the simulator's or a
carrier's): the ID document column is hashed under the carrier's key on the way in, so the store
never holds it. Linked accounts come from partner platforms (CSV or Parquet:
``platform, account, msisdn``). A malformed row is counted with its line and reason, not taken.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from telewarden.core.disposal.cascade import LinkedAccount
from telewarden.core.disposal.credit import id_key
from telewarden.core.disposal.ports import Card
from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import FixedClock, Flag

if TYPE_CHECKING:
    from telewarden.services.disposal import DisposalService, IntakeReport

__all__ = [
    "FileReport",
    "accounts_from_file",
    "cards_from_subscribers",
    "flags_from_alerts",
    "flags_from_scores",
    "take_flag_files",
]


@dataclass(slots=True)
class FileReport:
    """Rows read from one file; ``rows_read == accepted + quarantined``."""

    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        """Count a malformed row; keep the first 20 reasons with their lines."""
        self.quarantined += 1
        if len(self.problems) < 20:
            self.problems.append(f"line {line}: {reason}")

    @property
    def reconciles(self) -> bool:
        """Whether every row is accounted for."""
        return self.rows_read == self.accepted + self.quarantined


def _read(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # polars raises several error types for unreadable files
        raise InvalidInputError(f"{path}: cannot read it as a table: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{path}: missing columns {', '.join(missing)}")
    return frame


def _time(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def flags_from_alerts(path: Path, report: FileReport) -> Iterator[tuple[str, Flag]]:
    """``(key, flag)`` per row of ``alerts.csv``; the key is ``detector:msisdn``."""
    frame = _read(path, ("msisdn", "detector", "flagged_at", "reason"))
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        report.rows_read += 1
        msisdn, detector = row["msisdn"] or "", row["detector"] or ""
        at = _time(row["flagged_at"])
        if not msisdn.startswith("+") or not detector or at is None:
            report.reject(line, "needs an E.164 msisdn, a detector and a flagged_at time")
            continue
        report.accepted += 1
        evidence = {"attempts": int(row["attempts"])} if row.get("attempts") else {}
        yield (
            f"{detector}:{msisdn}",
            Flag(msisdn, "msisdn", detector, at, row["reason"] or detector, evidence=evidence),
        )


def flags_from_scores(
    path: Path, report: FileReport, *, at: dt.datetime, min_score: float
) -> Iterator[tuple[str, Flag]]:
    """``(key, flag)`` per scored subscriber at or above ``min_score`` (``scores.csv``)."""
    frame = _read(path, ("msisdn", "score"))
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        report.rows_read += 1
        try:
            score = float(row["score"])
        except (TypeError, ValueError):
            report.reject(line, "score is not a number")
            continue
        report.accepted += 1
        if score >= min_score and (row["msisdn"] or "").startswith("+"):
            yield (
                f"scorer:{row['msisdn']}",
                Flag(row["msisdn"], "msisdn", "scorer", at, f"model score {score:.3f}", score),
            )


def cards_from_subscribers(path: Path, key: bytes, report: FileReport) -> Iterator[Card]:
    """Cards with their ID document hashed under ``key`` (``subscribers`` table)."""
    frame = _read(path, ("msisdn", "id_doc_hash"))
    has_activation = "activated_at" in frame.columns
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        report.rows_read += 1
        msisdn, doc = row["msisdn"] or "", row["id_doc_hash"] or ""
        if not msisdn.startswith("+") or not doc.strip():
            report.reject(line, "needs an E.164 msisdn and an ID document")
            continue
        report.accepted += 1
        yield Card(msisdn, id_key(key, doc), _time(row["activated_at"]) if has_activation else None)


def accounts_from_file(path: Path, report: FileReport) -> Iterator[LinkedAccount]:
    """Linked accounts (``platform, account, msisdn``) from a partner's CSV or Parquet file."""
    frame = _read(path, ("platform", "account", "msisdn"))
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        report.rows_read += 1
        platform = (row["platform"] or "").strip().lower()
        account = (row["account"] or "").strip()
        msisdn = (row["msisdn"] or "").strip()
        if not platform or not account or not msisdn.startswith("+"):
            report.reject(line, "needs a platform, an account and an E.164 msisdn")
            continue
        if len(platform) > 32 or len(account) > 128:
            report.reject(line, "platform or account too long")
            continue
        report.accepted += 1
        yield LinkedAccount(platform, account, msisdn)


def take_flag_files(
    service: DisposalService,
    alerts: Path,
    scores: Path | None,
    report: FileReport,
    *,
    scores_at: dt.datetime,
    min_score: float,
    replay_clock: FixedClock | None = None,
) -> IntakeReport:
    """Open or join cases from ``alerts.csv`` (and the ``scores.csv`` rows at or above
    ``min_score``, flagged at ``scores_at``); malformed rows are counted in ``report``.

    With ``replay_clock`` (the clock ``service`` runs on), each flag is taken at its own time:
    records of the past, such as the simulator's.
    """
    flags: Iterable[tuple[str, Flag]] = flags_from_alerts(alerts, report)
    if scores is not None:
        flags = itertools.chain(
            flags, flags_from_scores(scores, report, at=scores_at, min_score=min_score)
        )
    if replay_clock is not None:
        flags = _at_their_time(flags, replay_clock)
    return service.take_flags(flags)


def _at_their_time(
    flags: Iterable[tuple[str, Flag]], clock: FixedClock
) -> Iterator[tuple[str, Flag]]:
    for key, flag in flags:
        clock.at = flag.at
        yield key, flag
