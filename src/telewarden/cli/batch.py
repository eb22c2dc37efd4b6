"""`telewarden batch`: the nightly feature, graph and scoring job, embedded or on Spark.

Commands:

- ``batch prepare --records SIM_DIR --output DIR``: canonical records (a ``telewarden sim``
  folder) to the contest tables, as Parquet partitioned by day (the job's input layout);
- ``batch run --engine polars|spark --input DIR --output DIR [--master URL]``: the 55 Sichuan
  features, the contact-graph features and the scores of every number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from telewarden.services.batch import ENGINES, run_batch

app = typer.Typer(
    help="The nightly batch job: features, contact graph and scores, embedded or on Spark.",
    no_args_is_help=True,
)
console = Console()


@app.command("prepare")
def prepare(
    records: Annotated[Path, typer.Option("--records", help="Canonical records (sim output).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Job input folder to write.")],
) -> None:
    """Write contest tables partitioned by day from canonical records."""
    from telewarden.adapters.batch_tables import prepare_from_records

    counts = prepare_from_records(records, output)
    table = Table("table", "rows")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"-> {output}")


@app.command("run")
def run(
    input_dir: Annotated[str, typer.Option("--input", help="Folder (or cluster URI) of tables.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder (or URI).")],
    engine: Annotated[
        str, typer.Option("--engine", help=f"{' or '.join(ENGINES)} (polars: embedded, no JVM).")
    ] = "polars",
    master: Annotated[
        str | None,
        typer.Option("--master", help="Spark master URL (default local[*]); spark engine only."),
    ] = None,
    model: Annotated[Path | None, typer.Option(help="Scorer file; default: shipped.")] = None,
) -> None:
    """Compute features, graph features and scores; write them as Parquet folders."""
    report = run_batch(input_dir, output, engine=engine, master=master, model=model)
    table = Table("input table", "rows")
    for name, rows in report.input_rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"{report.engine}: {report.numbers:,} numbers, {report.graph_nodes:,} graph nodes, "
        f"{report.flagged:,} flagged -> {report.output} ({', '.join(report.outputs)})"
    )
    console.print(
        f"{sum(report.input_rows.values()):,} rows in {report.seconds:.1f} s "
        f"({report.rows_per_s:,.0f} rows/s)"
    )
