"""The frame evaluator: :func:`decide_frame` gives ``Screener.decide``'s verdicts for a frame.

The rule set (:mod:`telewarden.core.screening.rules`) is compiled into Polars expressions: one
``when/then`` chain picks each row's outcome, and the verdict, reason, rule and SIP mapping are
looked up from the outcome. Facts come from the same extraction as on the per-event path
(:mod:`telewarden.core.screening.facts`), run once per DISTINCT value instead of per event:

- the caller's and the callee's :class:`NumberInfo` fields the rules read, once per distinct
  string: explicit international numbers in bulk from the compiled numbering plan
  (:func:`telewarden.core.numbering.analyse_frame`, exact agreement with the per-string
  analysis; not written to the number cache), everything else through
  :meth:`NumberIntel.analyse_many`; when fewer than ``_BULK_FROM`` strings remain (a live
  loop's micro-batch brings a few dozen), all of them go one by one through the number cache,
  since the bulk path's fixed cost is larger. Mainland mobiles written as 11
  digits, ``+86`` or ``0086`` plus 11 digits (most distinct numbers in real traffic) skip even
  that: they are recognised with string expressions and take their fields from
  :meth:`NumberIntel.mobile_template`, one call per distinct prefix (their results are not
  written to the number cache, which therefore stays exactly what ``analyse`` put there);
- the lazy groups, in the order the rules first read them, only for the rows that reach a
  rule reading them (no earlier outcome fired and the rest of that outcome's condition holds):
  list facts once per distinct E.164, opt-in and default facts once per distinct (callee,
  channel). Rows that reach the content rule with a body to inspect are decided one by one
  with the per-event evaluator, because the inspector runs per text.

The output carries verdict, reason, rule and the SIP mapping but no trace: a single event can
be re-explained with :meth:`Screener.decide` or :meth:`Screener.explain`.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import reduce
from typing import Any

import polars as pl

from telewarden.core.numbering import analyse_frame, infos_frame
from telewarden.core.numbers import MOBILE_TEMPLATE_DIGITS, NumberIntel
from telewarden.core.screening.conditions import (
    AllOf,
    AnyOf,
    Condition,
    Const,
    Equals,
    Fact,
    IsIn,
    IsNull,
    Not,
)
from telewarden.core.screening.facts import (
    LISTING_ATTRIBUTES,
    NUMBER_ATTRIBUTES,
    PAIR_ATTRIBUTES,
    FactCatalogue,
    number_value,
)
from telewarden.core.screening.policy import Screener
from telewarden.core.screening.rules import Outcome
from telewarden.core.screening.snapshot import PolicySnapshot
from telewarden.core.screening.types import Channel, Ingress, ScreeningEvent

__all__ = ["OUTPUT_COLUMNS", "compile_condition", "decide_frame"]

OUTPUT_COLUMNS: tuple[str, ...] = (
    "verdict",
    "reason",
    "rule",
    "sip_status",
    "sip_reason",
    "origin",
)
_OUTPUT_SCHEMA = {
    "_row": pl.UInt32,
    "verdict": pl.String,
    "reason": pl.String,
    "rule": pl.String,
    "sip_status": pl.Int32,
    "sip_reason": pl.String,
    "origin": pl.String,
    "caller_e164": pl.String,
}
_MOBILE_N11 = r"^1[3-9][0-9]{9}$"
# NumberInfo fields the per-prefix template answers for every spelling of a mainland mobile.
_TEMPLATE_FIELDS = frozenset(
    {
        "raw",
        "e164",
        "national",
        "country_code",
        "region",
        "origin",
        "origin_label",
        "kind",
        "valid",
        "invalid_reason",
        "is_service_number",
        "explicit_country_code",
        "impersonates",
        "service_name",
    }
)


def compile_condition(node: Condition, catalogue: FactCatalogue) -> pl.Expr:
    """The Polars expression of a condition over fact columns named as the facts.

    Missing values read as False (a boolean fact) or as "not equal", as on the per-event path,
    so the expression is never null.

    Examples
    --------
    >>> from telewarden.core.screening.facts import PolicyValues, caller
    >>> from telewarden.core.screening.settings import PolicySettings
    >>> cat = FactCatalogue(PolicyValues.from_settings(PolicySettings(), has_inspector=False))
    >>> df = pl.DataFrame({"caller.valid": [True, None], "caller.deny_match": ["exact", None]})
    >>> df.select(compile_condition(caller.valid & ~caller.deny_match.eq("exact"), cat)).to_series().to_list()
    [False, False]
    """
    node = catalogue.fold(node)
    return _compile(node, catalogue)


def _compile(node: Condition, catalogue: FactCatalogue) -> pl.Expr:
    if isinstance(node, Fact):
        src = catalogue.source(node.name)
        if src.derived is not None:
            return compile_condition(src.derived, catalogue)
        if src.group == "policy":
            return pl.lit(bool(src.value))
        return pl.col(node.name).fill_null(False)
    if isinstance(node, Const):
        return pl.lit(node.value)
    if isinstance(node, Not):
        return ~_compile(node.operand, catalogue)
    if isinstance(node, AllOf):
        return reduce(lambda a, b: a & b, (_compile(c, catalogue) for c in node.operands))
    if isinstance(node, AnyOf):
        return reduce(lambda a, b: a | b, (_compile(c, catalogue) for c in node.operands))
    if isinstance(node, Equals | IsIn | IsNull):
        column = _value(node.fact, catalogue)
        if isinstance(node, IsNull):
            return column.is_null()
        values = (node.value,) if isinstance(node, Equals) else node.values
        present = [v for v in values if v is not None]
        expr = column.is_in(present).fill_null(False) if present else pl.lit(False)
        return expr | column.is_null() if None in values else expr
    raise TypeError(f"cannot compile condition node {node!r}")


def _value(fact: Fact, catalogue: FactCatalogue) -> pl.Expr:
    src = catalogue.source(fact.name)
    if src.group == "policy":
        return pl.lit(src.value)
    return pl.col(fact.name)


# -- number facts ------------------------------------------------------------------------------


def _mobile_table(numbers: NumberIntel, raws: pl.Series, role: str) -> pl.DataFrame:
    """Template fields of the 11-digit mainland mobiles among ``raws`` (every spelling).

    Columns ``_raw`` and ``<role>.<field>`` for :data:`_TEMPLATE_FIELDS`. Strings not listed
    here (or whose prefix has no template) must go through :meth:`NumberIntel.analyse`.
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
        pl.DataFrame({"_raw": raws.cast(pl.String)})
        .with_columns(n11.alias("_n11"))
        .filter(pl.col("_n11").str.contains(_MOBILE_N11))
        .with_columns(pl.col("_n11").str.slice(0, MOBILE_TEMPLATE_DIGITS).alias("_prefix"))
    )
    templates = _templates(numbers, found.get_column("_prefix").unique())
    joined = found.join(templates, on="_prefix", how="inner")
    return joined.select(
        pl.col("_raw"),
        pl.col("_raw").alias(f"{role}.raw"),
        ("+86" + pl.col("_n11")).alias(f"{role}.e164"),
        pl.col("_n11").alias(f"{role}.national"),
        pl.lit(86, dtype=pl.Int64).alias(f"{role}.country_code"),
        *(pl.col(name).alias(f"{role}.{name}") for name in _PER_PREFIX),
        pl.lit(False).alias(f"{role}.is_service_number"),
        (pl.col("_raw").str.len_bytes() != 11).alias(f"{role}.explicit_country_code"),
        pl.lit(None, dtype=pl.String).alias(f"{role}.impersonates"),
        pl.lit(None, dtype=pl.String).alias(f"{role}.service_name"),
    )


_PER_PREFIX = ("region", "origin", "origin_label", "kind", "valid", "invalid_reason")
_TEMPLATES_KEY = "screening.batch.mobile_templates"


def _templates(numbers: NumberIntel, prefixes: pl.Series) -> pl.DataFrame:
    """The template fields of every mobile prefix seen so far (``_prefix`` and
    :data:`_PER_PREFIX`), kept on ``numbers`` so each prefix is looked up once per analyser."""
    known: pl.DataFrame | None = numbers.derived.get(_TEMPLATES_KEY)
    new = prefixes if known is None else prefixes.filter(~prefixes.is_in(known["_prefix"]))
    if known is not None and new.len() == 0:
        return known
    rows: dict[str, list[Any]] = {name: [] for name in ("_prefix", *_PER_PREFIX)}
    for prefix in new.to_list():
        template = numbers.mobile_template(prefix)
        if template is None:
            continue
        rows["_prefix"].append(prefix)
        for name in _PER_PREFIX:
            rows[name].append(number_value(template, name))
    added = pl.DataFrame(
        rows,
        schema={"_prefix": pl.String, **{name: NUMBER_ATTRIBUTES[name] for name in _PER_PREFIX}},
    )
    table = added if known is None else pl.concat([known, added], how="vertical")
    numbers.derived[_TEMPLATES_KEY] = table
    return table


_BULK_FROM = 128
"""Fewest strings :func:`analyse_frame` takes in bulk; fewer are analysed one by one."""


def _number_table(
    numbers: NumberIntel, raws: pl.Series, role: str, attributes: set[str]
) -> pl.DataFrame:
    """Per distinct string: ``_raw`` and the ``<role>.<field>`` columns in ``attributes``."""
    names = sorted(attributes)
    schema: dict[str, Any] = {
        "_raw": pl.String,
        **{f"{role}.{n}": NUMBER_ATTRIBUTES[n] for n in names},
    }
    parts = []
    if attributes <= _TEMPLATE_FIELDS:
        mobiles = _mobile_table(numbers, raws, role).select(list(schema))
        parts.append(mobiles)
        raws = _others(raws, mobiles)
    if raws.len() >= _BULK_FROM:
        # Explicit international numbers (most distinct foreign callers) are answered from the
        # compiled numbering plan in bulk, the rest one by one through the number cache.
        infos = analyse_frame(numbers, raws)
    else:
        # A few strings (a live loop's micro-batch holds a few dozen distinct numbers that are
        # not mainland mobiles): the bulk path's fixed cost, about 8 ms a frame, is more than
        # analysing them one by one through the number cache (under 0.1 ms each).
        infos = infos_frame(numbers.analyse_many(raws.to_list()))
    parts.append(
        infos.select(
            pl.col("raw").alias("_raw"), *(pl.col(n).alias(f"{role}.{n}") for n in names)
        ).cast(schema)  # type: ignore[arg-type]
    )
    return pl.concat(parts, how="vertical")


def _others(raws: pl.Series, answered: pl.DataFrame) -> pl.Series:
    """``raws`` minus the strings in ``answered["_raw"]``."""
    if answered.height == 0:
        return raws
    return raws.filter(~raws.is_in(answered.get_column("_raw")))


# -- lazy groups -------------------------------------------------------------------------------


def _listing_table(snap: PolicySnapshot, e164s: pl.Series, role: str) -> pl.DataFrame:
    """Per distinct E.164: the list facts and injected lookups of ``role``."""
    lookup_names = [name for name, _ in snap.lookups]
    schema: dict[str, pl.DataType] = {f"{role}.e164": pl.String()}
    schema |= {f"{role}.{a}": dtype for a, dtype in LISTING_ATTRIBUTES.items()}
    schema |= {f"{role}.{name}": pl.String() for name in lookup_names}
    columns: dict[str, list[Any]] = {name: [] for name in schema}
    listing = snap.listing
    listed, unlisted = _listed_candidates(snap, e164s)
    for e164 in listed:
        facts = listing(e164)
        columns[f"{role}.e164"].append(e164)
        columns[f"{role}.allow_listed"].append(facts.allow_listed)
        columns[f"{role}.deny_match"].append(facts.deny_match)
        for name in lookup_names:
            columns[f"{role}.{name}"].append(facts.looked_up[name])
    table = pl.DataFrame(columns, schema=schema)
    if unlisted.len():
        # No list entry and no lookup answer: the facts every such number shares.
        rest = pl.DataFrame({f"{role}.e164": unlisted}).with_columns(
            pl.lit(False).alias(f"{role}.allow_listed"),
            *(
                pl.lit(None, dtype).alias(f"{role}.{a}")
                for a, dtype in LISTING_ATTRIBUTES.items()
                if a != "allow_listed"
            ),
            *(pl.lit(None, pl.String).alias(f"{role}.{name}") for name in lookup_names),
        )
        table = pl.concat([table, rest.select(list(schema)).cast(schema)])  # type: ignore[arg-type]
    return table


def _listed_candidates(snap: PolicySnapshot, e164s: pl.Series) -> tuple[list[str], pl.Series]:
    """Split ``e164s`` into the numbers a list entry or a lookup may name, and the rest.

    A superset of the matches, computed on the column: exact patterns, prefixes of each length
    present, and the numbers a lookup offers as ``candidates()``. A lookup without that method
    gets every number. Only the first part goes through ``snap.listing`` one by one.
    """
    column = e164s.cast(pl.String).alias("e164")
    hit = pl.repeat(False, column.len(), dtype=pl.Boolean, eager=True).alias("hit")
    for lst in (snap.allow, snap.deny):
        if not lst.active:
            continue
        exact = lst.exact_patterns()
        if exact:
            hit = hit | column.is_in(pl.Series(exact, dtype=pl.String))
        for length in lst.prefix_lengths:
            prefixes = pl.Series(lst.prefixes(length), dtype=pl.String)
            hit = hit | column.str.slice(0, length).is_in(prefixes)
    for _, lookup in snap.lookups:
        candidates = getattr(lookup, "candidates", None)
        if candidates is None:
            return column.to_list(), column.clear()
        hit = hit | column.is_in(pl.Series(list(candidates()), dtype=pl.String))
    return column.filter(hit).to_list(), column.filter(~hit)


def _with_pair(snap: PolicySnapshot, work: pl.DataFrame, needed: pl.Expr) -> pl.DataFrame:
    """``work`` with ``pair.optin`` and ``pair.default_block`` where ``needed`` (else null).

    With region overrides the default depends on the callee's location, so each distinct
    (callee, channel) is analysed one by one; the rest of the time the default depends on the
    channel only (one expression) and the opt-in book is read only for the distinct callees it
    holds.
    """
    pair_keys = ["_callee", "_channel"]
    if snap.values.region_overrides:
        pairs = work.filter(needed).select(pair_keys).unique()
        return work.join(_located_pair_table(snap, pairs), on=pair_keys, how="left")
    values = snap.values
    block = (
        pl.when(pl.col("_channel") == Channel.SMS.value)
        .then(pl.lit(values.cross_border_block_sms))
        .otherwise(pl.lit(values.cross_border_block_calls))
    )
    work = work.with_columns(
        pl.when(needed)
        .then(block)
        .otherwise(None)
        .cast(PAIR_ATTRIBUTES["default_block"])
        .alias("pair.default_block")
    )
    book = snap.optins
    if not len(book):
        return work.with_columns(pl.lit(None, dtype=PAIR_ATTRIBUTES["optin"]).alias("pair.optin"))
    pairs = work.filter(needed).select(*pair_keys, "callee.e164").unique()
    optin: list[str | None] = []
    lookup = book.lookup
    for e164, channel in pairs.select("callee.e164", "_channel").iter_rows():
        # A membership test first: most callees have no record.
        record = lookup(e164, Channel(channel)) if e164 and e164 in book else None
        optin.append(None if record is None else ("in" if record.opted_in else "out"))
    table = pairs.select(pair_keys).with_columns(
        pl.Series("pair.optin", optin, dtype=PAIR_ATTRIBUTES["optin"])
    )
    return work.join(table, on=pair_keys, how="left")


def _located_pair_table(snap: PolicySnapshot, pairs: pl.DataFrame) -> pl.DataFrame:
    """Pair facts per distinct (callee, channel) with region overrides: the callee's location decides the default."""
    optin: list[str | None] = []
    block: list[bool] = []
    analyse = snap.numbers.analyse
    for raw, channel_value in pairs.select("_callee", "_channel").iter_rows():
        facts = snap.pair(analyse(raw), Channel(channel_value))
        optin.append(facts.optin)
        block.append(facts.default_block)
    return pairs.select("_callee", "_channel").with_columns(
        pl.Series("pair.optin", optin, dtype=PAIR_ATTRIBUTES["optin"]),
        pl.Series("pair.default_block", block, dtype=PAIR_ATTRIBUTES["default_block"]),
    )


# -- the evaluator -----------------------------------------------------------------------------


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


class _Plan:
    """The rule set of one snapshot, compiled for frames."""

    def __init__(self, snap: PolicySnapshot) -> None:
        self.snap = snap
        catalogue = snap.catalogue
        snap.rules.validate(catalogue)
        self.catalogue = catalogue
        self.outcomes: tuple[Outcome, ...] = tuple(o for _, o in snap.rules.outcomes)
        self.rule_names = [snap.rules.rules[i].name for i, _ in snap.rules.outcomes]
        # Outcomes the policy rules out (e.g. content rules with no inspector) are dropped.
        self.conditions = [catalogue.fold(o.when) for o in self.outcomes]
        self.live = [k for k, c in enumerate(self.conditions) if c != Const(False)]
        self.groups = [catalogue.groups(c) for c in self.conditions]
        live_conditions = [self.conditions[k] for k in self.live]
        self.caller_attributes = catalogue.number_attributes(live_conditions, "caller") | {
            "origin_label",
            "e164",
        }
        self.callee_attributes = catalogue.number_attributes(live_conditions, "callee") | {"e164"}
        first: dict[str, int] = {}
        for k in self.live:
            for group in self.groups[k]:
                first.setdefault(group, k)
        self.listings = [role for role in ("caller", "callee") if f"{role}_listing" in first]
        # Groups keyed by the row (not by one number) are staged: rows decided before the first
        # outcome reading them never need them.
        self.staged = sorted((g for g in ("pair", "content") if g in first), key=first.__getitem__)
        self.first = first

    def chain(self, start: int, stop: int) -> pl.Expr | None:
        """The outcome index of the live outcomes in [start, stop), null where none holds."""
        chain: Any = pl
        for k in self.live:
            if start <= k < stop:
                condition = compile_condition(self.conditions[k], self.catalogue)
                chain = chain.when(condition).then(pl.lit(k, dtype=pl.Int32))
        if chain is pl:
            return None
        expr: pl.Expr = chain.otherwise(pl.lit(None, dtype=pl.Int32))
        return expr

    def reach(self, group: str, available: set[str]) -> pl.Expr:
        """Where the rest of some outcome reading ``group`` holds (its known conjuncts)."""
        reach = []
        for k in self.live:
            if group not in self.groups[k]:
                continue
            when = self.conditions[k]
            conjuncts = when.operands if isinstance(when, AllOf) else (when,)
            known = [
                compile_condition(c, self.catalogue)
                for c in conjuncts
                if self.catalogue.groups(c) <= available
            ]
            reach.append(reduce(lambda a, b: a & b, known) if known else pl.lit(True))
        return pl.any_horizontal(reach)

    def sip_reason(self) -> pl.Expr:
        """The SIP Reason text, one ``concat_str`` per distinct template."""
        values = self.snap.values
        by_template: dict[str, list[int]] = {}
        for k in self.live:
            by_template.setdefault(self.outcomes[k].sip_template, []).append(k)
        fields = {
            "reason": pl.col("reason"),
            "origin": pl.col("origin"),
            "appeal_contact": pl.lit(values.appeal_contact),
            "optin_instruction": pl.lit(values.optin_instruction),
        }
        chain: Any = pl
        for template, ks in by_template.items():
            pieces: list[pl.Expr] = []
            for literal, name, _, _ in string.Formatter().parse(template):
                if literal:
                    pieces.append(pl.lit(literal))
                if name is not None:
                    pieces.append(fields[name])
            text = pl.concat_str(pieces) if pieces else pl.lit("")
            chain = chain.when(pl.col("_k").is_in(ks)).then(text)
        expr: pl.Expr = chain.otherwise(pl.lit(""))
        return expr


def _with_listing(snap: PolicySnapshot, table: pl.DataFrame, role: str) -> pl.DataFrame:
    """``table`` (one row per distinct number) with the list facts of its E.164 forms.

    Computed for every distinct number of the frame, not only those whose rows reach the list
    rules: it is one look-up per number, and it keeps the facts off the per-row joins.
    """
    key = f"{role}.e164"
    e164s = table.get_column(key).drop_nulls().unique()
    if snap.lists_are_empty:
        e164s = e164s.clear()
    return table.join(_listing_table(snap, e164s, role), on=key, how="left")


def decide_frame(screener: Screener | PolicySnapshot, events: pl.DataFrame) -> pl.DataFrame:
    """Decide every row of ``events``; the same outcome as :meth:`Screener.decide` per row.

    Parameters
    ----------
    screener : Screener or PolicySnapshot
        The policy, rules, lists, opt-ins and number analyser to use (its number cache is
        shared); a screener's current snapshot is read once for the whole frame.
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
    >>> df = pl.DataFrame({"caller": ["+85223456789", "13800138000"],
    ...                    "callee": ["13800138000", "13900139000"]})
    >>> decide_frame(Screener(), df)["reason"].to_list()
    ['cross_border_default_block', 'domestic']
    """
    snap = screener.snapshot if isinstance(screener, Screener) else screener
    plan = _Plan(snap)
    events = events.drop(*OUTPUT_COLUMNS, "caller_e164", strict=False)
    with_text = "text" in events.columns
    has_text = pl.col("text").cast(pl.String).fill_null("") != "" if with_text else pl.lit(False)
    work = events.select(
        pl.col("caller").cast(pl.String).fill_null("").alias("_caller"),
        pl.col("callee").cast(pl.String).fill_null("").alias("_callee"),
        _normalised(events, "channel", Channel.from_str, Channel.CALL.value).alias("_channel"),
        _normalised(events, "ingress", Ingress.from_str, Ingress.UNKNOWN.value).alias("_ingress"),
        pl.int_range(0, events.height, dtype=pl.UInt32).alias("_row"),
        has_text.alias("event.has_text"),
        *((pl.col("text").cast(pl.String),) if with_text else ()),
    ).with_columns(
        (pl.col("_ingress") == Ingress.INTERNATIONAL.value).alias("event.intl"),
        (pl.col("_channel") == Channel.SMS.value).alias("event.sms"),
        pl.col("_channel").alias("event.channel"),
        pl.col("_ingress").alias("event.ingress"),
    )
    numbers = snap.numbers
    for role, attributes in (
        ("caller", plan.caller_attributes),
        ("callee", plan.callee_attributes),
    ):
        key = f"_{role}"
        table = _number_table(numbers, work.get_column(key).unique(), role, attributes)
        if role in plan.listings:
            table = _with_listing(snap, table, role)
        work = work.join(table.rename({"_raw": key}), on=key, how="left")

    available = {"caller", "callee", "event", "policy"} | {f"{r}_listing" for r in plan.listings}
    work = work.with_columns(pl.lit(None, dtype=pl.Int32).alias("_k"))
    slow = work.clear()
    start = 0
    for group in plan.staged:
        stop = plan.first[group]
        chain = plan.chain(start, stop)
        if chain is not None:
            work = work.with_columns(pl.coalesce(pl.col("_k"), chain).alias("_k"))
        start = stop
        needed = pl.col("_k").is_null() & plan.reach(group, available)
        if group == "pair":
            work = _with_pair(snap, work, needed)
        else:
            # Per-text facts: these rows are decided one by one by the per-event evaluator.
            work = work.with_columns(needed.alias("_slow"))
            slow = work.filter(pl.col("_slow"))
            work = work.filter(~pl.col("_slow")).with_columns(
                pl.lit(None, dtype=pl.String).alias("content.label")
            )
        available.add(group)
    rest = plan.chain(start, len(plan.outcomes))
    if rest is not None:
        work = work.with_columns(pl.coalesce(pl.col("_k"), rest).alias("_k"))

    verdicts = {k: o.verdict.value for k, o in enumerate(plan.outcomes)}
    reasons = {k: o.reason.value for k, o in enumerate(plan.outcomes)}
    statuses = {k: o.sip_status for k, o in enumerate(plan.outcomes)}
    rules = dict(enumerate(plan.rule_names))
    fast = work.select(
        pl.col("_row"),
        pl.col("_k"),
        pl.col("_k").replace_strict(verdicts, return_dtype=pl.String).alias("verdict"),
        pl.col("_k").replace_strict(reasons, return_dtype=pl.String).alias("reason"),
        pl.col("_k").replace_strict(rules, return_dtype=pl.String).alias("rule"),
        pl.col("_k").replace_strict(statuses, return_dtype=pl.Int32).alias("sip_status"),
        pl.col("caller.origin_label").alias("origin"),
        pl.col("caller.e164").alias("caller_e164"),
    ).with_columns(plan.sip_reason().alias("sip_reason"))
    parts = [fast.select(list(_OUTPUT_SCHEMA))]
    if slow.height:
        parts.append(_decide_rows(snap.decide, slow))
    decided = pl.concat(parts, how="vertical").sort("_row")
    return pl.concat([events, decided.drop("_row")], how="horizontal")


def _decide_rows(decide: Callable[[ScreeningEvent], Any], rows: pl.DataFrame) -> pl.DataFrame:
    """Row-by-row decisions with the per-event evaluator (for rows whose body is inspected)."""
    out: dict[str, list[Any]] = {name: [] for name in _OUTPUT_SCHEMA}
    cols = rows.select("_row", "_caller", "_callee", "_channel", "_ingress", "text")
    for row, caller, callee, channel, ingress, text in cols.iter_rows():
        d = decide(ScreeningEvent(caller, callee, Channel(channel), Ingress(ingress), text=text))
        out["_row"].append(row)
        out["verdict"].append(d.verdict.value)
        out["reason"].append(d.reason.value)
        out["rule"].append(d.rule)
        out["sip_status"].append(d.sip_status)
        out["sip_reason"].append(d.sip_reason)
        out["origin"].append(d.origin)
        out["caller_e164"].append(d.caller.e164)
    return pl.DataFrame(out, schema=_OUTPUT_SCHEMA)
