"""The dashboard's disposal and early-warning panels: tiles and charts beside the screening ones.

``site.dashboard`` adds them; the figures come from ``services.casework``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request

from telewarden.api.auth import state_of
from telewarden.api.console.charts import bars, stacked_bars
from telewarden.api.console.i18n import translate
from telewarden.services import casework

__all__ = ["dashboard_panels"]


def dashboard_panels(request: Request, day_list: list[dt.date], lang: str) -> dict[str, Any]:
    """The dashboard's disposal and warning tiles and charts (``site.dashboard`` adds them)."""
    s = state_of(request)
    figures = casework.disposal_figures(s.disposal_store, s.ctx.clock.now())
    warned = casework.warning_figures(s.warning_store)
    labels = [d.strftime("%m-%d") for d in day_list]
    flagged_svg = stacked_bars(
        labels,
        {
            translate("cards_disposed", lang): [
                figures.disposed_by_day.get(d, 0) for d in day_list
            ],
            translate("cards_flagged", lang) + " − " + translate("cards_disposed", lang): [
                figures.flagged_by_day.get(d, 0) - figures.disposed_by_day.get(d, 0)
                for d in day_list
            ],
        },
        empty=translate("no_data", lang),
    )
    return {
        "disposal": figures,
        "warned": warned,
        "flagged_svg": flagged_svg,
        "fraud_type_svg": bars(figures.cases_by_fraud_type, empty=translate("no_data", lang)),
        "warnings_svg": stacked_bars(
            labels,
            {translate("warnings_sent", lang): [warned.by_day.get(d, 0) for d in day_list]},
            empty=translate("no_data", lang),
        ),
    }
