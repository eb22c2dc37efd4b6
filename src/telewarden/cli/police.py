"""`telewarden police export|feedback|labels`: referral packets, feedback, training labels."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from telewarden.cli.cases import disposal_service
from telewarden.cli.common import ACTOR_HELP, resolve_actor, stdout
from telewarden.core.errors import InvalidInputError

app = typer.Typer(help="Police referral packets and feedback.", no_args_is_help=True)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


@app.command("export")
def export(
    case_id: Annotated[str, typer.Argument(help="The case to refer.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Packet file (JSON).")],
) -> None:
    """Write the case's referral packet: numbers, evidence, indicators, measures, timeline."""
    from telewarden.services.police import case_packet

    with disposal_service() as service:
        packet = case_packet(service.store.get_case(case_id))
    _write_atomically(output, json.dumps(packet, ensure_ascii=False, indent=2, default=str))
    stdout().print(f"case {case_id}: {len(packet['timeline'])} timeline entries -> {output}")


@app.command("feedback")
def feedback(
    path: Annotated[Path, typer.Argument(help="CSV: case, outcome (confirmed|not_fraud), note.")],
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Apply the police's feedback: confirmed cases stay disposed, not_fraud ones are cleared."""
    from telewarden.services.police import import_feedback

    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"case", "outcome"} <= set(reader.fieldnames):
            raise InvalidInputError(f"{path}: needs the columns case and outcome")
        rows = [
            (line, r["case"].strip(), r["outcome"].strip(), (r.get("note") or "").strip())
            for line, r in enumerate(reader, start=2)
        ]
    with disposal_service() as service:
        report = import_feedback(service, rows, by=resolve_actor(actor))
    console = stdout()
    console.print(
        f"{report.rows} rows: {report.confirmed} confirmed, {report.cleared} cleared, "
        f"{report.rejected} rejected"
    )
    for problem in report.problems[:20]:
        console.print(f"  {problem}")


@app.command("labels")
def labels(
    output: Annotated[Path, typer.Option("--output", "-o", help="Labels file (CSV).")],
    limit: int = typer.Option(1_000_000, "--limit", min=1),
) -> None:
    """Write one label per decided case (1 confirmed fraud, 0 cleared) for the learning loop."""
    import io

    from telewarden.services.police import labels as case_labels

    with disposal_service() as service:
        rows: list[dict[str, Any]] = case_labels(service.store.list_cases(limit=limit))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["msisdn", "label", "decided_at", "sources", "case"])
    writer.writeheader()
    writer.writerows(rows)
    _write_atomically(output, buffer.getvalue())
    stdout().print(f"{len(rows)} labels -> {output}")
