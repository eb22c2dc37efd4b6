"""Options every file-reading command shares: the input's encoding and the quarantine limit."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["EncodingOption", "MaxQuarantineShareOption"]

EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of CSV/TSV/JSONL input, e.g. gb18030 (default: strict UTF-8).",
    ),
]
MaxQuarantineShareOption = Annotated[
    float | None,
    typer.Option(
        "--max-quarantine-share",
        min=0.0,
        max=1.0,
        help="Exit with an error when more than this share of rows is quarantined "
        "(a run that quarantines every row always fails).",
    ),
]
