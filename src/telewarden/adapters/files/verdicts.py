"""Verdict files: one row per screened event, written chunk by chunk as CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO, Any

import polars as pl

from telewarden.adapters.files.output import atomic_path
from telewarden.adapters.files.table import file_format
from telewarden.core.errors import InvalidInputError
from telewarden.core.screening import Decision, ScreeningEvent

SCHEMA: dict[str, Any] = {
    "line": pl.Int64,
    "caller": pl.String,
    "callee": pl.String,
    "channel": pl.String,
    "ingress": pl.String,
    "verdict": pl.String,
    "reason": pl.String,
    "rule": pl.String,
    "sip_status": pl.Int32,
    "origin": pl.String,
    "caller_e164": pl.String,
}


def verdict_frame(
    lines: list[int], events: list[ScreeningEvent], decisions: list[Decision]
) -> pl.DataFrame:
    """The verdict rows of one chunk, in the file's column order."""
    return pl.DataFrame(
        {
            "line": lines,
            "caller": [e.caller for e in events],
            "callee": [e.callee for e in events],
            "channel": [e.channel.value for e in events],
            "ingress": [e.ingress.value for e in events],
            "verdict": [d.verdict.value for d in decisions],
            "reason": [d.reason.value for d in decisions],
            "rule": [d.rule for d in decisions],
            "sip_status": [d.sip_status for d in decisions],
            "origin": [d.origin for d in decisions],
            "caller_e164": [d.caller.e164 for d in decisions],
        },
        schema=SCHEMA,
    )


class VerdictWriter:
    """Appends verdict chunks to ``path`` (format from its extension)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = file_format(path)
        self.rows = 0
        self._handle: IO[bytes] | None = None
        self._parquet: Any = None
        # Written beside ``path`` and renamed onto it when the run completes.
        self._atomic: Any = atomic_path(path)
        self._temp: Path = self._atomic.__enter__()
        try:
            if self.format == "csv":
                self._handle = self._temp.open("wb")
        except OSError as exc:
            self._atomic.__exit__(type(exc), exc, None)
            raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def write(self, frame: pl.DataFrame) -> None:
        """Append one chunk of verdict rows."""
        if self.format == "csv":
            assert self._handle is not None
            frame.write_csv(self._handle, include_header=self.rows == 0)
        else:
            import pyarrow.parquet as pq

            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._temp, table.schema)
            self._parquet.write_table(table)
        self.rows += frame.height

    def close(self) -> None:
        """Finish the file and rename it into place (an empty run leaves the header/schema)."""
        self._finish()
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)

    def _finish(self) -> None:
        if self.format == "csv":
            if self._handle is not None:
                if self.rows == 0:
                    pl.DataFrame(schema=SCHEMA).write_csv(self._handle)
                self._handle.close()
                self._handle = None
        else:
            if self._parquet is None:
                pl.DataFrame(schema=SCHEMA).write_parquet(self._temp)
            else:
                self._parquet.close()
                self._parquet = None

    def __enter__(self) -> VerdictWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        # A failed run leaves the previous file (or none) under the final name.
        try:
            self._finish()
        finally:
            if self._atomic is not None:
                atomic, self._atomic = self._atomic, None
                atomic.__exit__(exc_type, exc, tb)
