"""`telewarden measures ...`: propose, approve, reject and lift measures; what binds a card now."""

from __future__ import annotations

import typer

from telewarden.cli.case_views import render_case
from telewarden.cli.cases import disposal_service
from telewarden.cli.common import ACTOR_HELP, print_json, resolve_actor, stdout
from telewarden.core.errors import InvalidInputError

app = typer.Typer(help="Graded measures on cards and their approval.", no_args_is_help=True)


@app.command("propose")
def propose(
    case_id: str = typer.Argument(...),
    kind: str = typer.Argument(..., help="warn, reverify, restrict or suspend."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Propose a measure; it waits for the approval the policy asks for (suspend: supervisor)."""
    from telewarden.core.disposal import MeasureKind

    try:
        measure_kind = MeasureKind(kind)
    except ValueError as exc:
        raise InvalidInputError(f"unknown measure {kind!r}") from exc
    with disposal_service() as service:
        case = service.propose(case_id, measure_kind, by=resolve_actor(actor))
    render_case(case, as_json)


@app.command("approve")
def approve(
    case_id: str = typer.Argument(...),
    measure_id: str = typer.Argument(...),
    role: str = typer.Option("analyst", "--role", help="analyst or supervisor."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Approve a pending measure: it is in force at once and its notice is written."""
    from telewarden.core.disposal import Approval

    if role not in ("analyst", "supervisor"):
        raise InvalidInputError("--role is analyst or supervisor")
    with disposal_service() as service:
        case = service.approve(case_id, measure_id, by=resolve_actor(actor), role=Approval(role))
    render_case(case, as_json)


@app.command("reject")
def reject(
    case_id: str = typer.Argument(...),
    measure_id: str = typer.Argument(...),
    note: str = typer.Option("", "--note"),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Refuse a pending measure."""
    with disposal_service() as service:
        case = service.reject(case_id, measure_id, by=resolve_actor(actor), note=note)
    render_case(case, as_json)


@app.command("lift")
def lift(
    case_id: str = typer.Argument(...),
    measure_id: str = typer.Argument(...),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Release a measure in force at once."""
    with disposal_service() as service:
        case = service.lift(case_id, measure_id, by=resolve_actor(actor))
    render_case(case, as_json)


@app.command("check")
def check(
    msisdn: str = typer.Argument(..., help="E.164 number of the card."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What restriction binds the card now (what the screener will enforce)."""
    with disposal_service() as service:
        book = service.measure_book()
        restriction = book.restriction_for(msisdn, service.clock.now())
    if restriction is None:
        data: dict[str, object] = {"msisdn": msisdn, "restricted": False}
    else:
        data = {
            "msisdn": msisdn,
            "restricted": True,
            "severity": restriction.severity.name.lower(),
            "blocks_outgoing_calls": restriction.blocks_outgoing_calls,
            "blocks_outgoing_sms": restriction.blocks_outgoing_sms,
            "blocks_incoming": restriction.blocks_incoming,
            "measure": restriction.measure_id,
            "case": restriction.case_id,
            "sip_reason": restriction.sip_reason(),
        }
    if as_json:
        print_json(data)
    elif restriction is None:
        stdout().print(f"{msisdn}: no restriction")
    else:
        stdout().print(
            f"{msisdn}: {restriction.severity.name.lower()} - {restriction.sip_reason()}"
        )


@app.command("extend-to-id")
def extend_to_id(
    case_id: str = typer.Argument(...),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Flag the other cards on the case's ID document; the policy re-verifies them."""
    with disposal_service() as service:
        report = service.extend_to_id(case_id, by=resolve_actor(actor))
    stdout().print(
        f"{report.flags} other cards on the ID: {report.taken} flagged, "
        f"{report.duplicates} already done, {report.measures_in_force} measures in force"
    )
