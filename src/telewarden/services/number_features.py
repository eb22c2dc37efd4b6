"""Compute the 55 Sichuan behaviour features of numbers, from contest tables or canonical records.

What belongs here: who counts as a subscriber (:func:`subscribers_of`, the one definition every
number use case shares), the mapping of canonical records to the contest's tables for a set of
subscribers, and the ``numbers features`` use case, which reads tables, sets bad rows aside and
writes the features file.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import check_quarantine_share
from telewarden.adapters.files.table import LINE
from telewarden.adapters.records_io import read_table
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY, sichuan_features, validate_table
from telewarden.core.records import CELLS_SCHEMA, SUBSCRIBERS_SCHEMA
from telewarden.core.sichuan import SichuanMapper
from telewarden.services.number_inputs import quarantine_path, read_lined, write_frame

CONTEST_TABLES = ("voc", "sms", "app", "user")
"""The contest's four tables, in the order they are read."""

_FALLBACK_MONTH = dt.datetime(2020, 3, 1, tzinfo=dt.UTC)
"""Month the ``user`` table's ARPU columns end in when no card has an activation date."""

_QUARANTINE_SCHEMA = {"line": pl.Int64, "table": pl.String, "reason": pl.String}


def subscribers_of(calls: pl.DataFrame, subscribers: pl.DataFrame | None) -> pl.DataFrame:
    """The carrier's own subscribers: the subscribers table, or the callers seen with a SIM.

    A call record carries ``imsi`` only when the caller is this carrier's subscriber (see
    ``telewarden.core.records``), so without a subscribers table a caller with an IMSI is one
    of ours and any other caller (off-net, international, spoofed) is not. The stream detectors
    and the windowed signals use the same rule.

    Returns
    -------
    polars.DataFrame
        ``subscribers`` itself when given; otherwise one row per distinct caller with an IMSI,
        in the subscribers schema, columns other than ``msisdn`` empty.
    """
    if subscribers is not None:
        return subscribers
    callers = calls.filter(pl.col("imsi").is_not_null())["caller"].unique().sort()
    return pl.DataFrame({"msisdn": callers}, schema={"msisdn": pl.String}).with_columns(
        *(pl.lit(None, t).alias(c) for c, t in SUBSCRIBERS_SCHEMA.items() if c != "msisdn")
    )


def contest_tables_from_records(records: Mapping[str, pl.DataFrame]) -> dict[str, pl.LazyFrame]:
    """Canonical records (``calls`` required) as the contest's tables for our subscribers.

    ``user`` is written only from a subscribers table; its ARPU months end at the latest
    activation month.
    """
    calls = records["calls"]
    given = records.get("subscribers")
    subs = subscribers_of(calls, given)
    cells = records.get("cells", pl.DataFrame(schema=CELLS_SCHEMA))
    mapper = SichuanMapper(subs, cells)
    tables = {"voc": mapper.to_voc(calls).lazy()}
    if "sms" in records:
        tables["sms"] = mapper.to_sms(records["sms"]).lazy()
    if "usage" in records:
        tables["app"] = mapper.to_app(SichuanMapper.app_partial(records["usage"])).lazy()
    if given is not None:
        tables["user"] = contest_user_table(subs, mapper).lazy()
    return tables


def contest_user_table(subscribers: pl.DataFrame, mapper: SichuanMapper) -> pl.DataFrame:
    """The contest's ``user`` rows of a subscribers table (no label); the ARPU months end at
    the latest activation month."""
    latest = subscribers["activated_at"].max() if subscribers.height else None
    month = latest if isinstance(latest, dt.datetime) else _FALLBACK_MONTH
    return mapper.to_user(subscribers, None, month).drop("label")


def features_from_records(records: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """The 55 features of every subscriber (:func:`subscribers_of`) in canonical records."""
    tables = contest_tables_from_records(records)
    out = sichuan_features(
        tables["voc"], tables.get("sms"), tables.get("app"), tables.get("user")
    ).collect()
    subs = subscribers_of(records["calls"], records.get("subscribers"))
    return out.filter(pl.col(KEY).is_in(subs["msisdn"].implode()))


@dataclass(frozen=True, slots=True)
class FeaturesReport:
    """What ``numbers features`` produced."""

    output: Path
    numbers: int
    """Rows of the features file (one per number)."""
    rows_read: int
    quarantined: int
    quarantine_path: Path | None
    """Where the bad rows went; None when there were none."""
    seconds: float

    @property
    def accepted(self) -> int:
        """Rows read and used."""
        return self.rows_read - self.quarantined


_FINITE_COLUMNS = {"voc": ("call_dur",), "app": ("flow",)}
"""Contest columns that hold numbers: NaN and inf are quarantined before the table checks."""


def _read_contest(
    paths: Mapping[str, Path], encoding: str | None = None
) -> tuple[dict[str, pl.LazyFrame], pl.DataFrame, int]:
    tables: dict[str, pl.LazyFrame] = {}
    quarantined: list[pl.DataFrame] = []
    read = 0
    for kind in CONTEST_TABLES:
        path = paths.get(kind)
        if path is None:
            continue
        lined, rejected = read_lined(path, encoding)
        read += lined.height + rejected.height
        quarantined.append(rejected.select("line", pl.lit(kind).alias("table"), "reason"))
        not_finite: pl.Expr = pl.lit(False)
        for col in _FINITE_COLUMNS.get(kind, ()):
            if col in lined.columns:
                number = pl.col(col).cast(pl.Float64, strict=False)
                not_finite = not_finite | (number.is_not_null() & ~number.is_finite())
        quarantined.append(
            lined.filter(not_finite).select(
                pl.col(LINE).alias("line"),
                pl.lit(kind).alias("table"),
                pl.lit("a number is NaN or infinite").alias("reason"),
            )
        )
        lined = lined.filter(~not_finite)
        # validate_table numbers rows from first_line; 0 makes that the row index, mapped
        # back to the true source line here.
        ok, bad = validate_table(kind, lined, first_line=0)
        source_lines = lined.get_column(LINE)
        bad = bad.with_columns(source_lines.gather(bad.get_column("line")).alias("line"))
        tables[kind] = ok.drop(LINE).lazy()
        quarantined.append(bad.select("line", "table", "reason"))
    quarantine = pl.concat(quarantined) if quarantined else pl.DataFrame(schema=_QUARANTINE_SCHEMA)
    return tables, quarantine, read


def _read_canonical(
    paths: Mapping[str, Path], encoding: str | None = None
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, int]:
    results = {name: read_table(path, name, encoding) for name, path in paths.items()}
    quarantine = pl.concat(
        [r.quarantine.with_columns(pl.lit(n).alias("table")) for n, r in results.items()]
    ).select("line", "table", "reason")
    return (
        {n: r.frame for n, r in results.items()},
        quarantine,
        sum(r.read for r in results.values()),
    )


def compute_features(
    output: Path,
    *,
    contest: Mapping[str, Path] | None = None,
    canonical: Mapping[str, Path] | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
) -> FeaturesReport:
    """Compute the 55 features and write them to ``output``; bad rows go beside it.

    Parameters
    ----------
    output : Path
        Features file (``.csv`` or ``.parquet``); quarantined rows go to
        ``<stem>.quarantine.csv`` with their table, line and reason.
    contest : mapping, optional
        Contest tables by kind (``voc``, ``sms``, ``app``, ``user``).
    canonical : mapping, optional
        Canonical tables by name (``calls`` required; ``sms``, ``usage``, ``subscribers``,
        ``cells`` optional). Takes precedence over ``contest``.
    encoding : str, optional
        Encoding of CSV inputs (default strict UTF-8).
    max_quarantine_share : float, optional
        InvalidInputError (after writing) when more than this share of rows is quarantined;
        a run that quarantines every row always is.
    """
    started = time.perf_counter()
    inputs = [*(contest or {}).values(), *(canonical or {}).values()]
    refuse_inputs_as_outputs(inputs, [output, quarantine_path(output)])
    if canonical:
        if "calls" not in canonical:
            raise InvalidInputError("canonical records need a calls table")
        frames, quarantine, read = _read_canonical(canonical, encoding)
        features = features_from_records(frames)
    elif contest:
        tables, quarantine, read = _read_contest(contest, encoding)
        features = sichuan_features(
            tables.get("voc"), tables.get("sms"), tables.get("app"), tables.get("user")
        ).collect()
    else:
        raise InvalidInputError("give --voc/--sms/--app/--user or --calls [--sms ...]")
    write_frame(features, output)
    bad_path = quarantine_path(output) if quarantine.height else None
    if bad_path is not None:
        write_frame(quarantine, bad_path)
    check_quarantine_share(read, quarantine.height, max_quarantine_share, bad_path)
    return FeaturesReport(
        output=output,
        numbers=features.height,
        rows_read=read,
        quarantined=quarantine.height,
        quarantine_path=bad_path,
        seconds=time.perf_counter() - started,
    )
