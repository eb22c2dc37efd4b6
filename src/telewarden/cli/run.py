"""`telewarden run`: the live loop, embedded over simulator records or as a NATS worker.

Both ways run the whole loop: screening, the streaming detectors, the number scorer over
incremental features (``--model``, ``--scorer-acts``, ``--score-every``; ``--no-scorer`` leaves
it out), disposal (over an in-memory case store holding the simulated carrier's cards) and
early warning.

Embedded (default): the records' calls and SMS are replayed through the loop in event time and
the verdicts and flags are written to ``--out``. With ``--broker nats://...`` (or ``kafka://...``) the command is one
worker of a partition (``--partition K`` of ``--partitions N``), checkpointing to
``--checkpoint``; ``telewarden run feed`` publishes the records' events to the broker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The live loop: screen, detect, dispose and warn in event time.",
    invoke_without_command=True,
)

RECORDS_HELP = "A folder written by `telewarden sim` (calls, sms, subscribers, opt-ins)."


@app.callback()
def run(
    ctx: typer.Context,
    records: Annotated[Path | None, typer.Option("--records", help=RECORDS_HELP)] = None,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker", help="nats://host:port or kafka://host:port: run as a partition worker."
        ),
    ] = None,
    partition: Annotated[int, typer.Option("--partition", min=0)] = 0,
    partitions: Annotated[
        int, typer.Option("--partitions", min=1, help="Worker: how many partitions the feed has.")
    ] = 1,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="Worker checkpoint file.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Embedded: where verdicts and flags go.")
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            min=1,
            help="Events per micro-batch (default 20,000; as a worker, at most what has "
            "arrived, whole feed messages).",
        ),
    ] = None,
    idle_exit: Annotated[
        float | None,
        typer.Option("--idle-exit", help="Worker: stop after this many idle seconds."),
    ] = None,
    checkpoint_every: Annotated[
        float,
        typer.Option("--checkpoint-every", min=0, help="Worker: seconds between checkpoints."),
    ] = 10.0,
    fetch_timeout: Annotated[
        float,
        typer.Option("--fetch-timeout", min=0.001, help="Worker: seconds a fetch waits."),
    ] = 0.1,
    linger: Annotated[
        float,
        typer.Option("--linger", min=0, help="Worker: seconds a micro-batch waits for more."),
    ] = 0.0,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Number scorer file (default: the shipped, advisory one)."),
    ] = None,
    scorer_acts: Annotated[
        bool,
        typer.Option(
            "--scorer-acts",
            help="Act on the scorer's flags whatever the history (the --model's card must "
            "allow it, as for `detect --scorer-acts`).",
        ),
    ] = False,
    score_every: Annotated[
        float,
        typer.Option("--score-every", min=1, help="Minutes of event time between scorings."),
    ] = 60.0,
    no_scorer: Annotated[
        bool,
        typer.Option("--no-scorer", help="Leave the number scorer and its features out."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run the live loop (see `telewarden run --help`)."""
    if ctx.invoked_subcommand is not None:
        return
    from telewarden.core.errors import InvalidInputError

    if records is None:
        raise InvalidInputError("--records is required (a folder written by `telewarden sim`)")
    if not (records / "calls.parquet").exists():
        raise InvalidInputError(f"{records} holds no calls.parquet; run `telewarden sim` first")
    if broker is not None and partition >= partitions:
        raise InvalidInputError(f"--partition {partition} is not below --partitions {partitions}")
    from telewarden.services.demo import enterprise_registry
    from telewarden.services.live_loop import LiveLoop
    from telewarden.services.loop_demo import make_whole_loop
    from telewarden.services.loop_replay import load_day, replay_records
    from telewarden.settings import load_settings

    hash_key = load_settings().effective_hash_key()
    import datetime as dt

    from telewarden.services.loop_scoring import ScoringSettings

    scoring = (
        None
        if no_scorer
        else ScoringSettings(model, scorer_acts, dt.timedelta(minutes=score_every))
    )

    def loop_factory() -> LiveLoop:
        assert records is not None
        if broker is None:
            return make_whole_loop(
                records,
                hash_key=hash_key,
                allow=enterprise_registry(),
                id_scope="run",
                scoring=scoring,
            )
        from telewarden.adapters.brokers.nats_jetstream import partition_of

        return make_whole_loop(
            records,
            hash_key=hash_key,
            allow=enterprise_registry(),
            id_scope=f"p{partition}",
            owns=lambda msisdn: partition_of(msisdn, partitions) == partition,
            scoring=scoring,
        )

    if broker is not None:
        from telewarden.runners.live import run_worker_blocking

        path = checkpoint or Path(f"telewarden-worker-p{partition}.checkpoint.json")
        report = run_worker_blocking(
            broker,
            partition,
            loop_factory,
            path,
            batch=batch or 20_000,
            fetch_timeout_s=fetch_timeout,
            linger_s=linger,
            idle_exit_s=idle_exit,
            checkpoint_every_s=checkpoint_every,
        )
        summary: dict[str, object] = {
            "partition": report.partition,
            "events": report.events,
            "dead_lettered": report.dead_lettered,
            "effects": report.effects,
            "messages": report.messages,
            "batches": report.batches,
            "replayed_batches": report.replayed_batches,
            "resumed_from_seq": report.resumed_from,
            "last_seq": report.last_seq,
            "seconds": round(report.seconds, 2),
            "active_s": round(report.active_s, 2),
            "loop_s": round(report.loop_s, 2),
            "cpu_s": round(report.cpu_s, 2),
            "events_per_second": round(report.events / report.seconds) if report.seconds else 0,
            "events_per_active_second": (
                round(report.events / report.active_s) if report.active_s else 0
            ),
            "lag_p50_s": report.lag_percentile(0.5),
            "lag_p99_s": report.lag_percentile(0.99),
        }
        typer.echo(json.dumps(summary) if as_json else _lines(summary))
        return
    import polars as pl

    loop = loop_factory()
    result = replay_records(loop, load_day(records), batch_size=batch or 20_000)
    if out is not None:
        from telewarden.adapters.records_io import write_parquet_atomic

        write_parquet_atomic(result.decisions, out / "verdicts.parquet")
        flags = pl.DataFrame(
            [
                {"subject": f.subject, "source": f.source, "at": f.at, "reason": f.reason}
                for f in result.flags
            ],
            schema={
                "subject": pl.String,
                "source": pl.String,
                "at": pl.Datetime("us", "UTC"),
                "reason": pl.String,
            },
        )
        write_parquet_atomic(flags, out / "flags.parquet")
    summary = {
        "events": result.events,
        "seconds": round(result.seconds, 2),
        "events_per_second": round(result.events_per_second),
        **{k: v for k, v in result.counters.items() if k != "by_reason"},
    }
    scorer = getattr(loop.scorer, "counters", None)
    if scorer is not None:
        summary["scorer"] = scorer.as_dict()
    typer.echo(json.dumps(summary) if as_json else _lines(summary))


def _lines(summary: Mapping[str, object]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in summary.items())


@app.command("feed")
def feed(
    records: Annotated[Path, typer.Option("--records", help=RECORDS_HELP)],
    broker: Annotated[
        str, typer.Option("--broker", help="nats://host:port or kafka://host:port[?partitions=N]")
    ],
    partitions: Annotated[int, typer.Option("--partitions", min=1)] = 1,
    rate: Annotated[
        float | None, typer.Option("--rate", min=1, help="Events per second (default: at once).")
    ] = None,
    batch_events: Annotated[
        int, typer.Option("--batch-events", min=1, help="At most this many events a message.")
    ] = 1_000,
    batch_bytes: Annotated[
        int, typer.Option("--batch-bytes", min=1_024, help="At most about this many bytes.")
    ] = 256 * 1024,
    no_copies: Annotated[
        bool,
        typer.Option(
            "--no-copies",
            help="Send no copy of a call or SMS to its callee's partition (the scorer's "
            "features of a partition's subscribers then lack the calls from other partitions).",
        ),
    ] = False,
) -> None:
    """Publish the records' calls and SMS to the broker, partitioned by caller, in batches."""
    import asyncio

    import polars as pl

    from telewarden.adapters.brokers import connect_broker
    from telewarden.adapters.brokers.nats_jetstream import MIRROR_COLUMN
    from telewarden.services.loop_replay import load_day
    from telewarden.services.loop_scoring import copies_for_callees

    events = load_day(records)
    if not no_copies:
        subscribers = pl.read_parquet(records / "subscribers.parquet")
        events = events.with_columns(copies_for_callees(events, subscribers).alias(MIRROR_COLUMN))

    async def publish() -> int:
        js = await connect_broker(broker)
        try:
            return await js.publish_events(
                events,
                partitions,
                rate=rate,
                max_events=batch_events,
                max_bytes=batch_bytes,
            )
        finally:
            await js.close()

    typer.echo(f"published {asyncio.run(publish()):,} events to {partitions} partition(s)")
