"""`telewarden credit ...`: one-ID query, sale check, credit listings (ID documents hashed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout

if TYPE_CHECKING:
    from telewarden.services.credit import CreditService

app = typer.Typer(help="ID documents: cards per ID, sale check, credit list.", no_args_is_help=True)


@contextmanager
def credit_service() -> Iterator[CreditService]:
    """The ID-level use cases over the configured store and hash key."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.services.credit import CreditService
    from telewarden.settings import load_settings

    key = load_settings().effective_hash_key()
    store = open_store()
    try:
        yield CreditService(SqlDisposalStore(store), SystemClock(), key)
    finally:
        store.close()


@app.command("cards")
def cards(
    id_document: str = typer.Argument(..., help="ID document number (hashed before use)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The one-ID query: every card sold on the ID document."""
    with credit_service() as service:
        found = service.cards_under(id_document)
    if as_json:
        print_json([{"msisdn": c.msisdn, "activated_at": c.activated_at} for c in found])
        return
    stdout().print(f"{len(found)} cards: " + ", ".join(c.msisdn for c in found))


@app.command("check-sale")
def check_sale(
    id_document: str = typer.Argument(...),
    limit: int = typer.Option(5, "--limit", min=1, help="Cards allowed per ID (O3: 5)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """May one more card be sold on this ID? Exit 1 when not."""
    with credit_service() as service:
        result = service.check_sale(id_document, limit=limit)
    if as_json:
        print_json(
            {"allowed": result.allowed, "cards_held": result.cards_held, "reason": result.reason}
        )
    else:
        verdict = "sale allowed" if result.allowed else f"sale refused: {result.reason}"
        stdout().print(f"{verdict} ({result.cards_held} of {result.limit} cards held)")
    if not result.allowed:
        raise typer.Exit(1)


@app.command("list")
def list_id(
    id_document: str = typer.Argument(...),
    basis: str = typer.Option(..., "--basis", help="fraud or card_trading."),
    term: int = typer.Option(..., "--term", help="2 or 3 years (5 in a row at most)."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Enter the ID in the credit list and print the written notice (zh, en)."""
    with credit_service() as service:
        report = service.list_id(id_document, basis=basis, term_years=term, by=resolve_actor(actor))
    listing = report.listing
    if as_json:
        print_json(
            {
                "listing": listing.id,
                "starts_at": listing.starts_at,
                "ends_at": listing.ends_at,
                "cards": [c.msisdn for c in report.cards],
                "notices": {n.lang: n.body for n in report.notices},
            }
        )
        return
    console = stdout()
    console.print(f"listing {listing.id}: {listing.starts_at} to {listing.ends_at}")
    console.print(f"cards on the ID: {', '.join(c.msisdn for c in report.cards) or 'none'}")
    for n in report.notices:
        console.print(f"\n[{n.lang}] {n.subject}\n{n.body}")


@app.command("lift")
def lift(
    id_document: str = typer.Argument(...),
    listing_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="appeal upheld, credit repaired, ..."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Lift a listing early (appeal or credit repair)."""
    with credit_service() as service:
        lifted = service.lift(id_document, listing_id, reason=reason, by=resolve_actor(actor))
    stdout().print(f"listing {lifted.id} lifted at {lifted.lifted_at}: {reason}")
