"""`telewarden cases ...`: take flags, list and show cases, decide, appeal, re-verify, run timers.

Every change goes through ``telewarden.services.disposal`` and is written with its notices,
cascade messages and audit records in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from telewarden.cli.case_views import case_summary, render_case
from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout
from telewarden.core.errors import InvalidInputError

if TYPE_CHECKING:
    from telewarden.core.ports import Clock
    from telewarden.services.disposal import DisposalService

app = typer.Typer(help="Disposal cases: flags, measures, decisions, appeals.", no_args_is_help=True)


@contextmanager
def disposal_service(clock: Clock | None = None, **options: Any) -> Iterator[DisposalService]:
    """The disposal use cases over the configured store (closed afterwards)."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.services.disposal import DisposalService

    store = open_store()
    try:
        yield DisposalService(SqlDisposalStore(store), clock or SystemClock(), **options)
    finally:
        store.close()


@app.command("import-cards")
def import_cards(
    subscribers: Annotated[Path, typer.Argument(help="Subscribers table (CSV or Parquet).")],
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Load the carrier's cards with their ID documents (stored as keyed hashes only)."""
    from telewarden.services.disposal_intake import FileReport, cards_from_subscribers
    from telewarden.settings import load_settings

    key = load_settings().effective_hash_key()
    report = FileReport()
    with disposal_service() as service:
        taken = service.store.import_cards(
            cards_from_subscribers(subscribers, key, report),
            actor=resolve_actor(actor),
            source_name=subscribers.name,
        )
    stdout().print(
        f"{taken:,} cards taken of {report.rows_read:,} rows ({report.quarantined:,} malformed)"
    )
    for problem in report.problems:
        stdout().print(f"  {problem}")


@app.command("intake")
def intake(
    alerts: Annotated[Path, typer.Argument(help="alerts.csv written by `telewarden detect`.")],
    scores: Annotated[
        Path | None, typer.Option("--scores", help="scores.csv: scorer flags too.")
    ] = None,
    min_score: float = typer.Option(0.9, "--min-score", help="Scores at or above open cases."),
    replay: bool = typer.Option(
        False,
        "--replay",
        help="Stamp measures with each flag's own time (records of the past, e.g. the simulator).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Open or join cases from detector flags and apply the policy's automatic measures."""
    import time

    from telewarden.adapters.clock import SystemClock
    from telewarden.core.ports import FixedClock
    from telewarden.services.disposal_intake import FileReport, take_flag_files

    file_report = FileReport()
    replay_clock = FixedClock(_epoch()) if replay else None
    started = time.perf_counter()
    with disposal_service(replay_clock) as service:
        report = take_flag_files(
            service, alerts, scores, file_report, scores_at=SystemClock().now(),
            min_score=min_score, replay_clock=replay_clock,
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    data = {
        "rows_read": file_report.rows_read,
        "malformed": file_report.quarantined,
        "flags": report.flags,
        "taken": report.taken,
        "duplicates": report.duplicates,
        "not_our_cards": report.not_our_cards,
        "cases_opened": report.cases_opened,
        "cases_joined": report.cases_joined,
        "measures_in_force": report.measures_in_force,
        "measures_pending": report.measures_pending,
        "by_kind": report.by_kind,
        "notices": report.notices,
        "cascade_messages": report.cascade_messages,
        "reconciles": report.reconciles,
        "seconds": round(elapsed, 3),
    }
    if as_json:
        print_json(data)
        return
    console = stdout()
    for name, value in data.items():
        console.print(f"{name:>18}: {value}")
    for problem in file_report.problems:
        console.print(f"  {problem}")


def _epoch() -> Any:
    import datetime as dt

    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@app.command("list")
def list_cases(
    state: str | None = typer.Option(None, "--state", help="open, confirmed, appealed, cleared."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The newest cases first."""
    from telewarden.core.disposal import CaseState

    wanted = None
    if state is not None:
        try:
            wanted = CaseState(state)
        except ValueError as exc:
            raise InvalidInputError(f"--state: unknown case state {state!r}") from exc
    with disposal_service() as service:
        cases = service.store.list_cases(state=wanted, limit=limit)
        counts = service.store.count_cases()
    if as_json:
        print_json({"counts": counts, "cases": [case_summary(c) for c in cases]})
        return
    from rich.table import Table

    table = Table("case", "msisdn", "state", "flags", "in force", "opened")
    for c in cases:
        live = ", ".join(str(m.kind) for m in c.measures if str(m.state) == "in_force")
        table.add_row(c.id, c.msisdn, str(c.state), str(len(c.flags)), live, str(c.opened_at))
    console = stdout()
    console.print(table)
    console.print("cases by state: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


@app.command("show")
def show(
    case_id: str = typer.Argument(...),
    notices: bool = typer.Option(False, "--notices", help="Print the notices sent."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One case with its flags, measures, appeals (and notices)."""
    with disposal_service() as service:
        case = service.store.get_case(case_id)
        sent = service.store.notices_for(case_id) if notices else []
    render_case(case, as_json)
    for n in sent:
        stdout().print(f"\n[{n.notice.lang}] {n.notice.subject}\n{n.notice.body}")


@app.command("decide")
def decide(
    case_id: str = typer.Argument(...),
    outcome: str = typer.Argument(..., help="confirm (fraud) or clear (not fraud)."),
    note: str = typer.Option("", "--note"),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Confirm fraud (measures stay) or clear the case (every measure lifted at once)."""
    with disposal_service() as service:
        case = service.decide(case_id, outcome, by=resolve_actor(actor), note=note)
    render_case(case, as_json)


@app.command("appeal")
def appeal(
    case_id: str = typer.Argument(...),
    grounds: str = typer.Option(..., "--grounds", help="What the subscriber says."),
    channel: str = typer.Option("hotline", "--channel", help="Where the appeal came in."),
    decide_as: str | None = typer.Option(
        None, "--decide", help="upheld or rejected: decide the appeal under review instead."
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Accept an appeal, or (with --decide) decide it; upheld lifts every measure at once."""
    with disposal_service() as service:
        if decide_as is None:
            case = service.appeal(case_id, grounds=grounds, channel=channel)
        elif decide_as in ("upheld", "rejected"):
            case = service.decide_appeal(
                case_id, upheld=decide_as == "upheld", by=resolve_actor(actor), note=grounds
            )
        else:
            raise InvalidInputError("--decide takes upheld or rejected")
    render_case(case, as_json)


@app.command("verify")
def verify(
    subject: str = typer.Argument(..., help="Case id, or the card's E.164 number."),
    actor: str | None = typer.Option(None, "--actor", help="Shop or channel that verified."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a passed re-verification: the re-verification and what it caused lift at once."""
    with disposal_service() as service:
        case = service.pass_reverification(subject, by=resolve_actor(actor))
    render_case(case, as_json)


@app.command("tick")
def tick(as_json: bool = typer.Option(False, "--json")) -> None:
    """Run the timers now: escalate missed deadlines, end terms, report overdue appeal reviews."""
    with disposal_service() as service:
        report = service.tick()
    data = {
        "cases": report.cases,
        "escalated": report.escalated,
        "expired": report.expired,
        "appeals_overdue": report.appeals_overdue,
    }
    if as_json:
        print_json(data)
    else:
        stdout().print(
            f"{report.cases} cases: {report.escalated} escalated, {report.expired} expired, "
            f"{len(report.appeals_overdue)} appeal reviews overdue"
        )


@app.command("replay")
def replay(
    records: Annotated[Path, typer.Option("--records", help="Simulator/carrier records dir.")],
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Detect and dispose on a records dir; count the later calls and SMS the measures block."""
    from telewarden.core.ports import FixedClock
    from telewarden.services.disposal_replay import dispose_records
    from telewarden.settings import load_settings

    if not (records / "calls.parquet").is_file():
        raise InvalidInputError(f"{records}: no calls.parquet (run `telewarden sim` first)")
    key = load_settings().effective_hash_key()
    clock = FixedClock(_epoch())
    from telewarden.core.disposal import MeasureBook

    with disposal_service(clock, book=MeasureBook()) as service:
        report = dispose_records(records, service, clock, hash_key=key)
    data = report.as_dict()
    if as_json:
        print_json(data)
        return
    console = stdout()
    for name, value in data.items():
        console.print(f"{name:>26}: {value}")


@app.command("purge")
def purge(
    older_than_days: int = typer.Option(..., "--older-than-days", min=1),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Delete cleared cases not changed for that many days (PIPL Art. 19); audited."""
    import datetime as dt

    with disposal_service() as service:
        cutoff = service.clock.now() - dt.timedelta(days=older_than_days)
        purged = service.store.purge_cleared(cutoff, actor=resolve_actor(actor))
    stdout().print(f"{purged:,} cleared cases older than {cutoff:%Y-%m-%d} purged")
