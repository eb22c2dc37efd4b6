"""`telewarden models list|show|register|shadow|promote|rollback|drift`: the model registry.

Only parsing and rendering: the use cases are in ``telewarden.services.model_registry`` and
``telewarden.services.model_shadow``. The command line has no roles (the API does): the rule it
enforces is that whoever puts a version into service did not register it, by ``--actor``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout
from telewarden.cli.reading import EncodingOption, MaxQuarantineShareOption

if TYPE_CHECKING:
    from telewarden.core.registry import ModelRegistry, ModelVersion, ServingEvent
    from telewarden.services.context import AppContext

app = typer.Typer(
    help="Model versions: register, shadow-score, promote, roll back, watch drift.",
    no_args_is_help=True,
)

KindOption = Annotated[str, typer.Option("--kind", help="sms or numbers.")]
DataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--data", help="Training data NAME=ROWS or NAME=ROWS:IDS (repeat); default: the file's."
    ),
]
MetricOption = Annotated[
    list[str] | None, typer.Option("--metric", help="A metric NAME=VALUE (repeat).")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]


@contextmanager
def registry() -> Iterator[tuple[ModelRegistry, AppContext]]:
    """The registry beside the configured store, and the services' context (closed after)."""
    from telewarden.cli.common import app_context

    store = open_store()
    try:
        ctx = app_context(store)
        assert ctx.models is not None
        yield ctx.models, ctx
    finally:
        store.close()


def _kind(raw: str) -> Any:
    from telewarden.core.registry import ModelKind

    return ModelKind.parse(raw)


def version_dict(v: ModelVersion, serving: int | None, card: bool = False) -> dict[str, Any]:
    """A version as JSON-ready data."""
    out: dict[str, Any] = {
        "kind": str(v.kind),
        "version": v.version,
        "serving": v.version == serving,
        "path": v.path,
        "sha256": v.sha256,
        "registered_by": v.registered_by,
        "registered_at": v.registered_at.isoformat(),
        "data": [{"name": d.name, "rows": d.rows, "ids": d.ids} for d in v.data],
        "metrics": dict(v.metrics),
        "note": v.note,
    }
    if card:
        out["card"] = v.card
    return out


def _event_line(e: ServingEvent) -> str:
    was = "shipped" if e.previous is None else f"version {e.previous}"
    now = "shipped" if e.version is None else f"version {e.version}"
    return f"{e.kind} {e.action}: {was} -> {now} by {e.actor} at {e.at:%Y-%m-%d %H:%M}: {e.reason}"


@app.command("list")
def list_versions(
    kind: Annotated[str | None, typer.Option("--kind", help="sms or numbers.")] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Registered versions, the serving one of each kind and the serving history."""
    from telewarden.core.registry import ModelKind, serving_version

    kinds = [_kind(kind)] if kind else list(ModelKind)
    with registry() as (reg, _):
        rows, history = [], []
        for k in kinds:
            events = reg.serving_history(k)
            current = serving_version(events)
            rows += [version_dict(v, current) for v in reg.list_versions(k)]
            history += events
    if as_json:
        print_json({"versions": rows, "history": [_event_line(e) for e in history]})
        return
    console = stdout()
    for r in rows:
        mark = "*" if r["serving"] else " "
        data = ", ".join(f"{d['name']} ({d['rows']:,})" for d in r["data"]) or "-"
        console.print(
            f"{mark} {r['kind']:<7} {r['version']:>3}  {r['registered_by']:<12} "
            f"{r['registered_at'][:16]}  {r['sha256'][:12]}  {data}",
            markup=False,
        )
    for e in history:
        console.print(_event_line(e), markup=False)
    if not rows:
        console.print("no versions registered: the shipped models serve")


@app.command("show")
def show(
    version: Annotated[int, typer.Argument(help="The version number.")],
    kind: KindOption = "sms",
) -> None:
    """One version with its data, metrics and model card (JSON)."""
    from telewarden.core.registry import serving_version

    with registry() as (reg, _):
        k = _kind(kind)
        print_json(version_dict(reg.get_version(k, version), serving_version(reg.serving_history(k)), True))  # fmt: skip


@app.command("register")
def register(
    path: Annotated[
        Path, typer.Argument(help="The model file (sms train / numbers train output).")
    ],
    kind: KindOption = "sms",
    data: DataOption = None,
    metric: MetricOption = None,
    card: Annotated[
        Path | None, typer.Option(help="Model card (Markdown); default: the file's provenance.")
    ] = None,
    note: str = typer.Option("", "--note", help="A short note."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Register a model file as the next version (checksum, data, metrics, card; audited)."""
    from telewarden.core.errors import InvalidInputError
    from telewarden.services.model_registry import parse_data_refs, parse_metrics, register_model

    refs, metrics = parse_data_refs(data or []), parse_metrics(metric or [])
    if card is not None and not card.is_file():
        raise InvalidInputError(f"no model card at {card}")
    text = card.read_text(encoding="utf-8") if card is not None else None
    with registry() as (reg, ctx):
        v = register_model(
            reg, ctx.clock, _kind(kind), path, actor=resolve_actor(actor), data=refs,
            metrics=metrics, card=text, note=note,
        )  # fmt: skip
    stdout().print(f"registered {v.kind} version {v.version} (sha256 {v.sha256[:12]})")


@app.command("promote")
def promote(
    version: Annotated[int, typer.Argument(help="The version to put into service.")],
    reason: ReasonOption,
    kind: KindOption = "sms",
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Put a version into service (not by its registrant; audited with the reason)."""
    from telewarden.services.model_registry import promote as run_promote

    with registry() as (reg, ctx):
        event = run_promote(reg, ctx.clock, _kind(kind), version, actor=resolve_actor(actor), reason=reason)  # fmt: skip
    stdout().print(_event_line(event), markup=False)


@app.command("rollback")
def rollback(
    reason: ReasonOption,
    kind: KindOption = "sms",
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Restore the version that served before the serving one (audited with the reason)."""
    from telewarden.services.model_registry import rollback as run_rollback

    with registry() as (reg, ctx):
        event = run_rollback(reg, ctx.clock, _kind(kind), actor=resolve_actor(actor), reason=reason)
    stdout().print(_event_line(event), markup=False)


@app.command("shadow")
def shadow(
    candidate: Annotated[int, typer.Option("--candidate", help="The SMS version to try.")],
    source: Annotated[Path, typer.Option("--input", help="CSV, TSV or JSONL of messages.")],
    text_column: str = typer.Option("text", "--text-column", help="Column holding the body."),
    quarantine: Annotated[
        Path | None, typer.Option(help="Rejected rows (default: <input stem>.quarantine.csv).")
    ] = None,
    show: int = typer.Option(10, "--show", min=0, help="Disagreements to print."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
) -> None:
    """Score a file with a candidate SMS version beside the serving one and record the comparison."""
    from telewarden.services.model_shadow import shadow_sms

    with registry() as (reg, ctx):
        report = shadow_sms(
            ctx, reg, candidate, source, actor=resolve_actor(actor), text_column=text_column,
            quarantine=quarantine, encoding=encoding, max_quarantine_share=max_quarantine_share,
        )  # fmt: skip
    run = report.run
    cur = "shipped" if run.current is None else f"version {run.current}"
    body: dict[str, Any] = {
        "run": run.id, "candidate": run.candidate, "current": run.current, "rows": run.rows,
        "agree": run.agree, "agreement": round(run.agreement, 6),
        "current_verdicts": dict(run.current_verdicts),
        "candidate_verdicts": dict(run.candidate_verdicts), "quarantined": report.quarantined,
        "disagreements": [
            {"line": d.line, "current": d.current, "candidate": d.candidate,
             "current_score": d.current_score, "candidate_score": d.candidate_score, "text": d.text}
            for d in run.disagreements[:show]
        ],
    }  # fmt: skip
    if as_json:
        print_json(body)
        return
    console = stdout()
    console.print(
        f"shadow run {run.id}: {run.rows} messages, candidate {run.candidate} agrees with {cur} "
        f"on {run.agree} ({run.agreement:.2%}); {len(run.disagreements)} disagreements kept"
    )
    for name, counts in (("current", run.current_verdicts), ("candidate", run.candidate_verdicts)):
        console.print(f"  {name:<9} " + ", ".join(f"{v} {n}" for v, n in counts.items()))
    for d in body["disagreements"]:
        console.print(
            f"  line {d['line']}: {d['current']} -> {d['candidate']}  {d['text'][:60]}",
            markup=False,
        )
    if report.quarantined:
        console.print(f"{report.quarantined} rows quarantined: {report.quarantine_path}")


@app.command("drift")
def drift(
    kind: KindOption = "sms",
    version: Annotated[int | None, typer.Option(help="Default: the serving version.")] = None,
    shipped: bool = typer.Option(False, "--shipped", help="The shipped model's days."),
    max_share_delta: float = typer.Option(0.05, "--max-share-delta", help="Alarm threshold."),
    max_psi: float = typer.Option(0.2, "--max-psi", help="Alarm threshold on score PSI."),
    fail_on_alarm: bool = typer.Option(False, "--fail-on-alarm", help="Exit 4 on an alarm."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Verdict shares and score distribution by day against the first day; alarms on shifts."""
    from telewarden.services.model_shadow import drift as run_drift

    with registry() as (reg, _):
        report = run_drift(
            reg, _kind(kind), version=version, shipped=shipped,
            max_share_delta=max_share_delta, max_psi=max_psi,
        )  # fmt: skip
    who = "shipped" if report.version is None else f"version {report.version}"
    days: list[dict[str, Any]] = [
        {"day": d.day.isoformat(), "rows": d.rows, "shares": dict(d.shares),
         "share_delta": dict(d.share_delta), "psi": round(d.psi, 4), "alarms": list(d.alarms)}
        for d in report.days
    ]  # fmt: skip
    if as_json:
        print_json({"kind": str(report.kind), "version": report.version, "days": days})
    else:
        console = stdout()
        console.print(f"{report.kind} {who}: {len(days)} days (baseline: the first)")
        for d in days:
            shares = " ".join(f"{v} {s:.1%}" for v, s in d["shares"].items())
            alarm = "ALARM " + "; ".join(d["alarms"]) if d["alarms"] else "ok"
            console.print(f"  {d['day']}  {d['rows']:>8}  {shares}  PSI {d['psi']:.3f}  {alarm}")
    if fail_on_alarm and report.alarm:
        raise typer.Exit(4)
