"""Vectorised batch screening: :func:`decide_frame` gives ``Screener.decide``'s verdicts for a frame.

The per-event path spends most of its time in Python per event. Here Python runs once per
DISTINCT caller (number analysis, integrity checks, allow/deny look-ups), once per distinct
callee, and once per distinct (callee, channel) pair that reaches the cross-border rule
(opt-in and regional default); Polars joins those small tables back to the events and applies
the rule priority of :mod:`telewarden.core.screening.policy` with ``when/then`` chains.
Mainland mobiles written as 11 digits, ``+86`` or ``0086`` plus 11 digits (most distinct numbers
in real traffic) skip even that: they are recognised with string expressions and take their
fields from :meth:`NumberIntel.mobile_template`, one call per distinct prefix. Their results
are not written to the number cache, which therefore stays exactly what ``analyse`` put there.

SMS whose body would be inspected (content inspection on, an inspector configured, non-empty
text) are decided row by row with :meth:`Screener.decide`, because the content rule sits in
the middle of the priority order and its result depends on the text.

The output carries verdict, reason, rule and the SIP mapping but no trace: a single event can
be re-explained with :meth:`Screener.decide` or :meth:`Screener.explain`.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from telewarden.core.numbers import MOBILE_TEMPLATE_DIGITS, NumberIntel, NumberKind, Origin
from telewarden.core.screening.policy import RULES, SIP_BLOCK_STATUS, Screener
from telewarden.core.screening.types import (
    Channel,
    Ingress,
    MatchKind,
    ReasonCode,
    ScreeningEvent,
    Verdict,
)

__all__ = ["OUTPUT_COLUMNS", "decide_frame"]

OUTPUT_COLUMNS: tuple[str, ...] = (
    "verdict",
    "reason",
    "rule",
    "sip_status",
    "sip_reason",
    "origin",
)

_EMERGENCY_KINDS = frozenset({NumberKind.EMERGENCY, NumberKind.POLICE, NumberKind.ANTI_FRAUD})
_CROSS_BORDER = frozenset({Origin.HONG_KONG, Origin.MACAO, Origin.TAIWAN, Origin.FOREIGN})
_BLOCK = Verdict.BLOCK.value
_ALLOW = Verdict.ALLOW.value
_LABELLED = Verdict.ALLOW_LABELLED.value
# Outcomes of the caller-only rules 20-80, by code (-1: none fired): (rule index, verdict,
# reason). The codes are those assigned in ``_caller_table``.
_OUTCOMES: tuple[tuple[int, str | None, str | None], ...] = (
    (1, _BLOCK, ReasonCode.SERVICE_NUMBER_IMPERSONATION.value),
    (2, _BLOCK, ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL.value),
    (3, _BLOCK, ReasonCode.MISSING_COUNTRY_CODE.value),
    (4, _BLOCK, ReasonCode.UNPARSEABLE_CALLER_ID.value),
    (5, _BLOCK, ReasonCode.INVALID_CALLER_ID.value),
    (6, _ALLOW, ReasonCode.ALLOW_LISTED.value),
    (6, _LABELLED, ReasonCode.ALLOW_LISTED.value),
    (7, _BLOCK, ReasonCode.DENY_LISTED_NUMBER.value),
    (7, _BLOCK, ReasonCode.DENY_LISTED_PREFIX.value),
)
_OUTCOME_INDEX = {-1: -1, **{code: o[0] for code, o in enumerate(_OUTCOMES)}}
_OUTCOME_VERDICT = {-1: None, **{code: o[1] for code, o in enumerate(_OUTCOMES)}}
_OUTCOME_REASON = {-1: None, **{code: o[2] for code, o in enumerate(_OUTCOMES)}}


_MOBILE_N11 = r"^1[3-9][0-9]{9}$"


def _mobile_table(numbers: NumberIntel, raws: list[str]) -> pl.DataFrame:
    """The 11-digit mainland mobiles among ``raws`` (plain, ``+86`` and ``0086`` spellings).

    These are the strings :class:`NumberIntel` answers from a per-prefix template; here the
    template is looked up once per distinct prefix and joined back, so no per-number Python
    runs. Columns: ``_raw``, ``_e164``, ``_explicit`` and, from the template, ``_origin``,
    ``_label``, ``_region``, ``_valid``, ``_kind``. Strings not listed here (or whose prefix
    has no template) must go through :meth:`NumberIntel.analyse`.
    """
    raw = pl.col("_raw")
    size = raw.str.len_bytes()
    n11 = (
        pl.when(size == 11)
        .then(raw)
        .when((size == 14) & raw.str.starts_with("+86"))
        .then(raw.str.slice(3))
        .when((size == 15) & raw.str.starts_with("0086"))
        .then(raw.str.slice(4))
    )
    found = (
        pl.DataFrame({"_raw": raws}, schema={"_raw": pl.String})
        .with_columns(n11.alias("_n11"))
        .filter(pl.col("_n11").str.contains(_MOBILE_N11))
        .with_columns(
            ("+86" + pl.col("_n11")).alias("_e164"),
            (pl.col("_raw").str.len_bytes() != 11).alias("_explicit"),
            pl.col("_n11").str.slice(0, MOBILE_TEMPLATE_DIGITS).alias("_prefix"),
        )
    )
    rows: dict[str, list[Any]] = {
        name: [] for name in ("_prefix", "_origin", "_label", "_region", "_valid", "_kind")
    }
    for prefix in found.get_column("_prefix").unique().to_list():
        template = numbers.mobile_template(prefix)
        if template is None:
            continue
        rows["_prefix"].append(prefix)
        rows["_origin"].append(template.origin.value)
        rows["_label"].append(template.origin_label)
        rows["_region"].append(template.region)
        rows["_valid"].append(template.valid)
        rows["_kind"].append(template.kind.value)
    templates = pl.DataFrame(
        rows,
        schema={
            "_prefix": pl.String,
            "_origin": pl.String,
            "_label": pl.String,
            "_region": pl.String,
            "_valid": pl.Boolean,
            "_kind": pl.String,
        },
    )
    return found.join(templates, on="_prefix", how="inner").drop("_n11", "_prefix")


def _matches(match: Any, e164s: list[str]) -> list[bool]:
    return [match(e) is not None for e in e164s]


def _mobile_callers(screener: Screener, mobiles: pl.DataFrame) -> pl.DataFrame:
    """Rows of :func:`_caller_table` for template mobiles, with the same codes, in Polars."""
    high_risk_set = [c.upper() for c in screener.settings.high_risk_countries]
    allow = screener.allow
    deny = screener.deny
    cross_values = [o.value for o in _CROSS_BORDER]
    frame = mobiles.with_columns(pl.col("_origin").is_in(cross_values).alias("_xb"))
    valid = (
        # "138..." and "+86138..." are distinct callers with one E.164: match each once.
        frame.filter(pl.col("_valid")).get_column("_e164").unique().to_list()
        if len(allow) or len(deny)
        else []
    )
    allowed = pl.lit(False)
    denied = pl.lit(None, dtype=pl.Int8)
    if valid:
        hits = pl.DataFrame({"_e164": valid}, schema={"_e164": pl.String})
        if len(allow):
            hits = hits.with_columns(pl.Series("_allow", _matches(allow.match, valid)))
            allowed = pl.col("_allow").fill_null(False)
        if len(deny):
            exact = MatchKind.EXACT
            codes: list[int | None] = []
            for e164 in valid:
                hit = deny.match(e164)
                codes.append(None if hit is None else 7 if hit.match is exact else 8)
            hits = hits.with_columns(pl.Series("_deny", codes, dtype=pl.Int8))
            denied = pl.col("_deny")
        frame = frame.join(hits, on="_e164", how="left")
    tail = (
        pl.when(~pl.col("_valid"))
        .then(pl.lit(4, dtype=pl.Int8))
        .when(allowed)
        .then(
            pl.when(pl.col("_xb"))
            .then(pl.lit(6, dtype=pl.Int8))
            .otherwise(pl.lit(5, dtype=pl.Int8))
        )
        .when(denied.is_not_null())
        .then(denied)
        .otherwise(pl.lit(-1, dtype=pl.Int8))
    )
    # As in _caller_table: a template mobile is never a service number nor an impersonation.
    on_intl = (
        pl.when(
            (pl.col("_origin") == Origin.MAINLAND.value) & (pl.col("_valid") | pl.col("_explicit"))
        )
        .then(pl.lit(1, dtype=pl.Int8))
        .when(~pl.col("_explicit"))
        .then(pl.lit(2, dtype=pl.Int8))
        .otherwise(tail)
    )
    return frame.select(
        pl.col("_raw").alias("_caller"),
        pl.col("_label").alias("origin"),
        pl.col("_e164").alias("caller_e164"),
        pl.col("_xb"),
        (
            pl.col("_region").is_in(high_risk_set).fill_null(False)
            if high_risk_set
            else pl.lit(False)
        ).alias("_hr"),
        on_intl.cast(pl.Int8).alias("_code_i"),
        tail.cast(pl.Int8).alias("_code_d"),
    )


def _caller_table(screener: Screener, callers: list[str]) -> pl.DataFrame:
    """Per distinct caller: origin label, cross-border and high-risk flags, rules 20-80.

    Rules 20-80 depend only on the caller and whether the ingress is international; their
    outcome is stored as a code into ``_OUTCOMES`` (-1: none fired) for an international and
    for any other ingress, in the order ``Screener._decide`` evaluates them. Template mobiles
    get the same codes from :func:`_mobile_callers`; only the other callers are analysed here.
    """
    numbers = screener.numbers
    cache = numbers._cache
    analyse = numbers.analyse
    high_risk_set = frozenset(c.upper() for c in screener.settings.high_risk_countries)
    allow_match = screener.allow.match if len(screener.allow) else None
    deny_match = screener.deny.match if len(screener.deny) else None
    mainland = Origin.MAINLAND
    exact_kind = MatchKind.EXACT
    impersonation, spoofed, missing_cc, unparseable, invalid = 0, 1, 2, 3, 4
    allowed, allowed_xb, denied, denied_prefix, none = 5, 6, 7, 8, -1
    origin: list[str] = []
    e164s: list[str | None] = []
    cross: list[bool] = []
    high: list[bool] = []
    on_intl: list[int] = []
    on_other: list[int] = []
    mobiles = _mobile_table(numbers, callers)
    callers = _others(callers, mobiles)
    for raw in callers:
        info = cache.get(raw) or analyse(raw)
        cross_border = info.origin in _CROSS_BORDER
        origin.append(info.origin_label)
        e164s.append(info.e164)
        cross.append(cross_border)
        region = info.region
        high.append(region is not None and region in high_risk_set)
        # Rules 50-80 (after the ingress-specific ones); same on every ingress.
        e164 = info.e164
        if e164 is None:
            tail = unparseable
        elif not info.valid:
            tail = invalid
        elif allow_match is not None and allow_match(e164) is not None:
            tail = allowed_xb if cross_border else allowed
        elif deny_match is not None and (hit := deny_match(e164)) is not None:
            tail = denied if hit.match is exact_kind else denied_prefix
        else:
            tail = none
        if info.impersonates is not None:
            on_intl.append(impersonation)
            on_other.append(impersonation)
            continue
        on_other.append(tail)
        if info.is_service_number:
            on_intl.append(impersonation)
        elif info.origin is mainland and (info.valid or info.explicit_country_code):
            on_intl.append(spoofed)
        elif not info.explicit_country_code:
            on_intl.append(missing_cc)
        else:
            on_intl.append(tail)
    analysed = pl.DataFrame(
        {
            "_caller": callers,
            "origin": origin,
            "caller_e164": e164s,
            "_xb": cross,
            "_hr": high,
            "_code_i": on_intl,
            "_code_d": on_other,
        },
        schema={
            "_caller": pl.String,
            "origin": pl.String,
            "caller_e164": pl.String,
            "_xb": pl.Boolean,
            "_hr": pl.Boolean,
            "_code_i": pl.Int8,
            "_code_d": pl.Int8,
        },
    )
    return pl.concat([_mobile_callers(screener, mobiles), analysed], how="vertical")


def _callee_table(screener: Screener, callees: list[str]) -> pl.DataFrame:
    """Per distinct callee: emergency flag, and the E.164 form when it is a template mobile."""
    numbers = screener.numbers
    mobiles = _mobile_table(numbers, callees)
    emergency_values = [k.value for k in _EMERGENCY_KINDS]
    vectorised = mobiles.select(
        pl.col("_raw").alias("_callee"),
        pl.col("_kind").is_in(emergency_values).alias("_emerg"),
        pl.col("_e164").alias("_callee_m164"),
    )
    cache = numbers._cache
    emergency: list[bool] = []
    rest = _others(callees, mobiles)
    for raw in rest:
        info = cache.get(raw) or numbers.analyse(raw)
        emergency.append(info.kind in _EMERGENCY_KINDS)
    analysed = pl.DataFrame(
        {"_callee": rest, "_emerg": emergency, "_callee_m164": [None] * len(rest)},
        schema={"_callee": pl.String, "_emerg": pl.Boolean, "_callee_m164": pl.String},
    )
    return pl.concat([vectorised, analysed], how="vertical")


def _others(raws: list[str], mobiles: pl.DataFrame) -> list[str]:
    """``raws`` minus the strings :func:`_mobile_table` answered."""
    if mobiles.height == 0:
        return raws
    column = pl.DataFrame({"_raw": raws}, schema={"_raw": pl.String})
    return column.join(mobiles.select("_raw"), on="_raw", how="anti").get_column("_raw").to_list()


def _cross_border_table(screener: Screener, pairs: pl.DataFrame) -> pl.DataFrame:
    """Per distinct (callee, channel): opt-in state (1 in, 0 out, -1 none) and default block."""
    numbers = screener.numbers
    cache = numbers._cache
    optins = screener.optins
    settings = screener.settings
    # Without region overrides the default depends on the channel only (Screener._default_block).
    plain = not settings.region_overrides
    state: list[int] = []
    block: list[bool] = []
    for raw, channel_value, mobile_e164 in pairs.iter_rows():
        channel = Channel(channel_value)
        if plain and mobile_e164 is not None:
            record = optins.lookup(mobile_e164, channel)
            state.append(-1 if record is None else int(record.opted_in))
            sms = channel is Channel.SMS
            block.append(
                settings.cross_border_block_sms if sms else settings.cross_border_block_calls
            )
            continue
        info = cache.get(raw) or numbers.analyse(raw)
        record = optins.lookup(info.e164, channel) if info.e164 else None
        state.append(-1 if record is None else int(record.opted_in))
        block.append(screener._default_block(info, channel)[0])
    return pairs.with_columns(
        pl.Series("_opt", state, dtype=pl.Int8),
        pl.Series("_dblock", block, dtype=pl.Boolean),
    )


def _normalised(frame: pl.DataFrame, name: str, parse: Any, default: str) -> pl.Expr:
    """The enum value of a free-text channel/ingress column, parsed once per distinct value."""
    if name not in frame.columns:
        return pl.lit(default, dtype=pl.String)
    values = frame.get_column(name).cast(pl.String).unique().to_list()
    mapping = {v: parse(v).value for v in values if v is not None}
    expr = (
        pl.col(name).cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.String)
    )
    return expr.fill_null(parse(None).value)


def decide_frame(screener: Screener, events: pl.DataFrame) -> pl.DataFrame:
    """Decide every row of ``events``; same verdict, reason and rule as :meth:`Screener.decide`.

    Parameters
    ----------
    screener : Screener
        The policy, lists, opt-ins and number analyser to use (its number cache is shared).
    events : polars.DataFrame
        Columns ``caller`` and ``callee`` (text; a null is read as the empty string) and,
        optionally, ``channel`` (default ``call``), ``ingress`` (default ``unknown``),
        ``text``; any other columns (``at``, ``attestation``, ...) are carried through.

    Returns
    -------
    polars.DataFrame
        The input, in order, plus ``verdict, reason, rule, sip_status, sip_reason, origin``
        (:data:`OUTPUT_COLUMNS`) and ``caller_e164`` (the caller's E.164 form, or null).

    Examples
    --------
    >>> import polars as pl
    >>> from telewarden.core.screening import Screener
    >>> df = pl.DataFrame({"caller": ["+85223456789", "13800138000"],
    ...                    "callee": ["13800138000", "13900139000"]})
    >>> decide_frame(Screener(), df)["reason"].to_list()
    ['cross_border_default_block', 'domestic']
    """
    events = events.drop(*OUTPUT_COLUMNS, "caller_e164", strict=False)
    settings = screener.settings
    height = events.height
    work = events.with_columns(
        pl.col("caller").cast(pl.String).fill_null("").alias("_caller"),
        pl.col("callee").cast(pl.String).fill_null("").alias("_callee"),
        _normalised(events, "channel", Channel.from_str, Channel.CALL.value).alias("_channel"),
        _normalised(events, "ingress", Ingress.from_str, Ingress.UNKNOWN.value).alias("_ingress"),
        pl.int_range(0, height, dtype=pl.UInt32).alias("_row"),
    )
    inspect = settings.content_inspection and screener.content is not None
    if inspect and "text" in work.columns:
        text = pl.col("text").cast(pl.String)
        slow_mask = (pl.col("_channel") == Channel.SMS.value) & text.is_not_null() & (text != "")
    else:
        slow_mask = pl.lit(False)
    work = work.with_columns(slow_mask.alias("_slow"))
    fast = work.filter(~pl.col("_slow"))

    callers = _caller_table(screener, fast.get_column("_caller").unique().to_list())
    callees = _callee_table(screener, fast.get_column("_callee").unique().to_list())
    fast = fast.join(callers, on="_caller", how="left").join(callees, on="_callee", how="left")

    intl = pl.col("_ingress") == Ingress.INTERNATIONAL.value
    code = pl.when(intl).then(pl.col("_code_i")).otherwise(pl.col("_code_d"))
    fast = fast.with_columns(code.alias("_code")).with_columns(
        pl.col("_code").replace_strict(_OUTCOME_INDEX, return_dtype=pl.Int8).alias("_idx"),
        pl.col("_code").replace_strict(_OUTCOME_VERDICT, return_dtype=pl.String).alias("_ver"),
        pl.col("_code").replace_strict(_OUTCOME_REASON, return_dtype=pl.String).alias("_rea"),
    )
    needs_xb = ~pl.col("_emerg") & (pl.col("_idx") < 0) & pl.col("_xb")
    pairs = fast.filter(needs_xb).select("_callee", "_channel", "_callee_m164").unique()
    fast = fast.join(
        _cross_border_table(screener, pairs).drop("_callee_m164"),
        on=["_callee", "_channel"],
        how="left",
    )

    hr_block = pl.col("_hr") & pl.lit(settings.block_high_risk_unless_opted_in)
    xb_verdict = (
        pl.when(pl.col("_opt") == 1)
        .then(pl.lit(_LABELLED))
        .when(pl.col("_opt") == 0)
        .then(pl.lit(_BLOCK))
        .when(pl.col("_dblock") | hr_block)
        .then(pl.lit(_BLOCK))
        .otherwise(pl.lit(_LABELLED))
    )
    xb_reason = (
        pl.when(pl.col("_opt") == 1)
        .then(pl.lit(ReasonCode.CROSS_BORDER_OPTED_IN.value))
        .when(pl.col("_opt") == 0)
        .then(pl.lit(ReasonCode.CROSS_BORDER_OPTED_OUT.value))
        .when(pl.col("_dblock"))
        .then(pl.lit(ReasonCode.CROSS_BORDER_DEFAULT_BLOCK.value))
        .when(hr_block)
        .then(pl.lit(ReasonCode.HIGH_RISK_ORIGIN.value))
        .otherwise(pl.lit(ReasonCode.CROSS_BORDER_ALLOWED.value))
    )
    labelled_if_xb = pl.when(pl.col("_xb")).then(pl.lit(_LABELLED)).otherwise(pl.lit(_ALLOW))
    verdict = (
        pl.when(pl.col("_emerg"))
        .then(labelled_if_xb)
        .when(pl.col("_idx") >= 0)
        .then(pl.col("_ver"))
        .when(pl.col("_xb"))
        .then(xb_verdict)
        .otherwise(pl.lit(_ALLOW))
    )
    reason = (
        pl.when(pl.col("_emerg"))
        .then(pl.lit(ReasonCode.EMERGENCY_CALLEE.value))
        .when(pl.col("_idx") >= 0)
        .then(pl.col("_rea"))
        .when(pl.col("_xb"))
        .then(xb_reason)
        .otherwise(pl.lit(ReasonCode.DOMESTIC.value))
    )
    index = (
        pl.when(pl.col("_emerg"))
        .then(pl.lit(0, dtype=pl.Int8))
        .when(pl.col("_idx") >= 0)
        .then(pl.col("_idx"))
        .when(pl.col("_xb"))
        .then(pl.lit(9, dtype=pl.Int8))
        .otherwise(pl.lit(10, dtype=pl.Int8))
    )
    rule_names = {i: name for i, (name, _) in enumerate(RULES)}
    fast = fast.with_columns(
        verdict.alias("verdict"),
        reason.alias("reason"),
        index.replace_strict(rule_names, return_dtype=pl.String).alias("rule"),
    )
    fast = fast.with_columns(_sip_columns(screener))
    fast = fast.select("_row", *OUTPUT_COLUMNS, "caller_e164")

    slow = work.filter(pl.col("_slow"))
    parts = [fast]
    if slow.height:
        parts.append(_decide_rows(screener, slow))
    decided = pl.concat(parts, how="vertical").sort("_row")
    return pl.concat(
        [events, decided.drop("_row")],
        how="horizontal",
    )


def _sip_columns(screener: Screener) -> list[pl.Expr]:
    appeal = screener.settings.appeal_contact
    sip_reason = (
        pl.when(pl.col("verdict") == _BLOCK)
        .then(pl.format("Network Blocked; cause={}; appeal=" + _escape(appeal), pl.col("reason")))
        .when(pl.col("verdict") == _LABELLED)
        .then(pl.format("origin={}; cause={}", pl.col("origin"), pl.col("reason")))
        .otherwise(pl.lit(""))
    )
    status = (
        pl.when(pl.col("verdict") == _BLOCK)
        .then(pl.lit(SIP_BLOCK_STATUS, dtype=pl.Int32))
        .otherwise(pl.lit(0, dtype=pl.Int32))
    )
    return [status.alias("sip_status"), sip_reason.alias("sip_reason")]


def _escape(text: str) -> str:
    """Protect literal braces from ``pl.format``'s ``{}`` placeholders."""
    return text.replace("{", "{{").replace("}", "}}")


def _decide_rows(screener: Screener, rows: pl.DataFrame) -> pl.DataFrame:
    """Row-by-row :meth:`Screener.decide` for events whose SMS body is inspected."""
    out: dict[str, list[Any]] = {name: [] for name in ("_row", *OUTPUT_COLUMNS, "caller_e164")}
    cols = rows.select("_row", "_caller", "_callee", "_channel", "_ingress", "text")
    for row, caller, callee, channel, ingress, text in cols.iter_rows():
        d = screener.decide(
            ScreeningEvent(caller, callee, Channel(channel), Ingress(ingress), text=text)
        )
        out["_row"].append(row)
        out["verdict"].append(d.verdict.value)
        out["reason"].append(d.reason.value)
        out["rule"].append(d.rule)
        out["sip_status"].append(d.sip_status)
        out["sip_reason"].append(d.sip_reason)
        out["origin"].append(d.origin)
        out["caller_e164"].append(d.caller.e164)
    return pl.DataFrame(
        out,
        schema={
            "_row": pl.UInt32,
            "verdict": pl.String,
            "reason": pl.String,
            "rule": pl.String,
            "sip_status": pl.Int32,
            "sip_reason": pl.String,
            "origin": pl.String,
            "caller_e164": pl.String,
        },
    )
