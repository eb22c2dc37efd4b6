"""decide_frame must give exactly Screener.decide's verdict, reason, rule and SIP mapping."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.screening import (
    OUTPUT_COLUMNS,
    Channel,
    ContentFinding,
    Ingress,
    ListEntry,
    MatchKind,
    NumberList,
    OptIn,
    OptInBook,
    OptInScope,
    PolicySettings,
    RegionPolicy,
    Screener,
    ScreeningEvent,
    decide_frame,
)
from telewarden.core.screening import batch as screening_batch

T0 = dt.datetime(2026, 5, 20, tzinfo=dt.UTC)
SUBSCRIBERS = [f"13{d}{i:08d}" for d in range(10) for i in range(0, 10**8, 10**7)]
DOMESTIC = [f"15{d}{i:08d}" for d in range(10) for i in range(3, 10**8, 10**7)] + [
    "01012345678",
    "075512345678",
    "02187654321",
]
FOREIGN = [
    "+85291234567",
    "+85362345678",
    "+886912345678",
    "+85512345678",
    "+639171234567",
    "+959712345678",
    "+447912345678",
    "+12025550123",
    "+60123456789",
    "0085291234567",
]
DENIED = ["18600000001", "18600000002", "+8618600000003"]
SERVICES = ["110", "95588", "10086", "12381", "96110", "95533"]
FAKES = ["+110", "0110", "00110", "96110123", "+95588", "1101"]
INVALID = ["14812345678", "+852123", "abc", "", "+99912345", "1234567890123456", "+", "   "]
EMERGENCY = ["110", "119", "120", "122", "112", "12110", "96110", "12381"]
INGRESS_TEXT = ["domestic", "international", "intl", "igw", "unknown", "", "nonsense", None]
CHANNEL_TEXT = ["call", "sms", "SMS", "voice", "text", "fax", "", None]


class KeywordInspector:
    """Scam when the body mentions a transfer, spam when it advertises, else ok."""

    def inspect(self, text: str) -> ContentFinding:
        if "转账" in text or "transfer" in text:
            return ContentFinding("scam", 0.97, "asks for a transfer")
        if "sale" in text:
            return ContentFinding("spam", 0.7, "advertising")
        return ContentFinding("ok", 0.1, "nothing found")


def build_screener(*, content_inspection: bool = False, overrides: bool = False) -> Screener:
    optins = OptInBook()
    for i, msisdn in enumerate(SUBSCRIBERS[::3]):
        scope = (OptInScope.CALLS, OptInScope.SMS, OptInScope.BOTH)[i % 3]
        optins.set(OptIn("+86" + msisdn, scope, i % 4 != 0, T0, "sms-1219"))
    deny = NumberList(
        [ListEntry("+86" + n.lstrip("+86"), MatchKind.EXACT, "police", "fraud") for n in DENIED]
        + [
            ListEntry("+86170", MatchKind.PREFIX, "miit", "virtual operator range"),
            ListEntry("+861701", MatchKind.PREFIX, "ops", "narrower range"),
            ListEntry("+85291", MatchKind.PREFIX, "ops", "reported range"),
        ]
    )
    allow = NumberList(
        [
            ListEntry("+8615012345673", MatchKind.EXACT, "bank", "registered"),
            ListEntry("+4479", MatchKind.PREFIX, "partner", "enterprise trunk"),
            ListEntry("+8618600000002", MatchKind.EXACT, "gov", "allow beats deny"),
        ]
    )
    policy = PolicySettings(
        content_inspection=content_inspection,
        content_legal_basis="test: synthetic messages" if content_inspection else None,
        high_risk_countries=["KH", "MM", "PH"],
        region_overrides=(
            {"Beijing": RegionPolicy(cross_border_block_calls=False), "广东": RegionPolicy()}
            if overrides
            else {}
        ),
    )
    return Screener(
        policy,
        optins=optins,
        deny=deny,
        allow=allow,
        content=KeywordInspector() if content_inspection else None,
    )


def mixed_events(seed: int, n: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows: list[dict[str, str | None]] = []
    for _ in range(n):
        pool = rng.choice(
            [DOMESTIC, DOMESTIC, FOREIGN, FOREIGN, DENIED, SERVICES, FAKES, INVALID, SUBSCRIBERS]
        )
        caller = rng.choice(pool)
        if rng.random() < 0.1:
            caller = "+86" + rng.choice(DOMESTIC).lstrip("0")
        if rng.random() < 0.05:
            caller = f"170{rng.randrange(3)}{rng.randrange(10**7):07d}"
        callee = rng.choice(SUBSCRIBERS) if rng.random() < 0.9 else rng.choice(EMERGENCY)
        text = rng.choice([None, "", "hello", "请转账到安全账户", "big sale today"])
        rows.append(
            {
                "caller": caller,
                "callee": callee,
                "channel": rng.choice(CHANNEL_TEXT),
                "ingress": rng.choice(INGRESS_TEXT),
                "text": text,
            }
        )
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})


def expected(screener: Screener, frame: pl.DataFrame) -> list[tuple[object, ...]]:
    out = []
    for row in frame.iter_rows(named=True):
        event = ScreeningEvent(
            row["caller"] if row["caller"] is not None else "",
            row["callee"] if row["callee"] is not None else "",
            Channel.from_str(row["channel"]) if "channel" in row else Channel.CALL,
            Ingress.from_str(row["ingress"]) if "ingress" in row else Ingress.UNKNOWN,
            text=row.get("text"),
        )
        d = screener.decide(event)
        out.append(
            (
                d.verdict.value,
                d.reason.value,
                d.rule,
                d.sip_status,
                d.sip_reason,
                d.origin,
                d.caller.e164,
            )
        )
    return out


def observed(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return list(frame.select(*OUTPUT_COLUMNS, "caller_e164").iter_rows())


@pytest.mark.parametrize(
    ("content_inspection", "overrides"),
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["defaults", "content-inspection", "region-overrides", "both"],
)
def test_decide_frame_agrees_with_decide_on_mixed_traffic(
    content_inspection: bool, overrides: bool
) -> None:
    screener = build_screener(content_inspection=content_inspection, overrides=overrides)
    frame = mixed_events(7, 3000)
    got = decide_frame(screener, frame)
    assert got.height == frame.height
    assert got.select(frame.columns).equals(frame)
    want = expected(screener, frame)
    assert observed(got) == want
    # The mix must really exercise the rules, or agreement proves little.
    assert len({r[1] for r in want}) >= 12


def test_decide_frame_carries_extra_columns_and_defaults_missing_ones() -> None:
    screener = build_screener()
    frame = pl.DataFrame(
        {
            "caller": ["+85291234567", "110", "13800138000"],
            "callee": ["13000000000", "13800138000", "120"],
            "attestation": ["A", None, "C"],
        }
    )
    got = decide_frame(screener, frame)
    assert got["attestation"].to_list() == ["A", None, "C"]
    assert observed(got) == expected(screener, frame)


def test_decide_frame_handles_an_empty_frame() -> None:
    frame = pl.DataFrame(
        {"caller": [], "callee": []}, schema={"caller": pl.String, "callee": pl.String}
    )
    got = decide_frame(build_screener(), frame)
    assert got.height == 0
    assert set(OUTPUT_COLUMNS) <= set(got.columns)


def test_decide_frame_sees_an_opt_in_made_after_a_previous_batch() -> None:
    screener = build_screener()
    frame = pl.DataFrame({"caller": ["+85261234568"], "callee": ["13900000001"]})
    assert decide_frame(screener, frame)["reason"].to_list() == ["cross_border_default_block"]
    screener.optins.set(OptIn("+8613900000001", OptInScope.BOTH, True, T0))
    assert decide_frame(screener, frame)["reason"].to_list() == ["cross_border_opted_in"]


_SCREENER = build_screener(content_inspection=True, overrides=True)
_text = st.one_of(st.none(), st.text(max_size=20))
_number = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="+0123456789 -()", max_size=18),
    st.sampled_from(DOMESTIC + FOREIGN + SERVICES + FAKES + INVALID + EMERGENCY + SUBSCRIBERS),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(_number, _number, st.sampled_from(CHANNEL_TEXT), _text, _text),
        min_size=1,
        max_size=15,
    )
)
def test_decide_frame_never_raises_and_agrees_on_arbitrary_strings(
    rows: list[tuple[str, str, str | None, str | None, str | None]],
) -> None:
    frame = pl.DataFrame(
        rows,
        schema={k: pl.String for k in ("caller", "callee", "channel", "ingress", "text")},
        orient="row",
    )
    got = decide_frame(_SCREENER, frame)
    assert observed(got) == expected(_SCREENER, frame)


def random_mobiles(rng: random.Random, n: int) -> list[str]:
    """11-digit numbers over every 1[3-9] prefix: allocated ranges and unallocated ones."""
    return [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(n)]


def spelled(rng: random.Random, n11: str) -> str:
    return rng.choice(["", "+86", "86", "0086"]) + n11


# Near misses of the template spellings: they must take the per-number path, not the template.
NEAR_MOBILES = [
    "1380013800",
    "138001380001",
    "+86138001380",
    "+861380013800011",
    "00861380013800",
    "008613800138000 ",
    " 13800138000",
    "138-0013-8000",
    "+85213800138000",
    "12800138000",
    "10800138000",
    "1380013800a",
    "１３８００１３８０００",
    "+8612345678901",
    "0013800138000",
    "+8610612345678",
]


@pytest.mark.parametrize("overrides", [False, True], ids=["defaults", "region-overrides"])
def test_decide_frame_agrees_with_decide_on_random_mainland_mobiles_in_every_spelling(
    overrides: bool,
) -> None:
    rng = random.Random(2026)
    pool = random_mobiles(rng, 4000)
    screener = build_screener(overrides=overrides)
    for n11 in rng.sample(pool, 300):
        screener.deny.add(ListEntry("+86" + n11, MatchKind.EXACT, "police", "fraud"))
    for n11 in rng.sample(pool, 100):
        screener.allow.add(ListEntry("+86" + n11, MatchKind.EXACT, "bank", "registered"))
    screener.deny.add(ListEntry("+86139", MatchKind.PREFIX, "ops", "whole range"))
    for n11 in rng.sample(pool, 1000):
        scope = rng.choice([OptInScope.CALLS, OptInScope.SMS, OptInScope.BOTH])
        screener.optins.set(OptIn("+86" + n11, scope, rng.random() < 0.7, T0, "sms-1219"))
    others = DOMESTIC + FOREIGN + SERVICES + FAKES + INVALID + EMERGENCY + NEAR_MOBILES
    rows: list[dict[str, str | None]] = []
    for _ in range(6000):
        x = rng.random()
        if x < 0.5:
            caller = spelled(rng, rng.choice(pool))
        elif x < 0.7:
            caller = rng.choice(FOREIGN)
        else:
            caller = rng.choice(others)
        callee = spelled(rng, rng.choice(pool)) if rng.random() < 0.8 else rng.choice(others)
        rows.append(
            {
                "caller": caller,
                "callee": callee,
                "channel": rng.choice(["call", "sms"]),
                "ingress": rng.choice(["domestic", "international", "unknown"]),
            }
        )
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    # A fresh screener with the same lists decides row by row, never having seen the frame.
    reference = Screener(
        screener.settings, optins=screener.optins, deny=screener.deny, allow=screener.allow
    )
    want = expected(reference, frame)
    got = decide_frame(screener, frame)
    assert observed(got) == want
    # The number cache decide_frame leaves behind gives decide the same answers.
    assert expected(screener, frame) == want
    reasons = {r[1] for r in want}
    assert {
        "invalid_caller_id",
        "spoofed_domestic_on_international",
        "missing_country_code",
        "allow_listed",
        "deny_listed_number",
        "deny_listed_prefix",
        "cross_border_opted_in",
        "cross_border_opted_out",
        "domestic",
    } <= reasons


def test_mobile_template_rows_are_kept_per_analyser_and_dropped_with_its_cache() -> None:
    screener = Screener()
    numbers = screener.snapshot.numbers
    first = pl.DataFrame({"caller": ["+85223456789", "13800138000"], "callee": ["13900139000"] * 2})
    expected = [
        screener.decide(ScreeningEvent(c, "13900139000")).reason.value for c in first["caller"]
    ]
    assert decide_frame(screener, first)["reason"].to_list() == expected
    assert len(numbers.derived) == 1  # the template rows of 13800 and 13900
    numbers.clear_cache()
    assert numbers.derived == {}
    # Rebuilt on the next frame, with the prefixes seen before and the new ones.
    again = first.with_columns(pl.lit("15000150000").alias("callee"))
    assert decide_frame(screener, again)["reason"].to_list() == [
        screener.decide(ScreeningEvent(c, "15000150000")).reason.value for c in again["caller"]
    ]
    (table,) = numbers.derived.values()
    assert sorted(table["_prefix"].to_list()) == ["13800", "15000"]


@pytest.mark.parametrize("bulk_from", [0, 10**9], ids=["in-bulk", "one-by-one"])
def test_number_facts_in_bulk_and_one_by_one_give_decides_frame(
    monkeypatch: pytest.MonkeyPatch, bulk_from: int
) -> None:
    # A frame with fewer than _BULK_FROM distinct strings that are not mainland mobiles (a
    # live loop's micro-batch) has them analysed one by one; more go through the bulk tables.
    # Either way the frame is decide's.
    seen: list[int] = []
    bulk = screening_batch.analyse_frame

    def spy(numbers: object, raws: pl.Series) -> pl.DataFrame:
        seen.append(raws.len())
        return bulk(numbers, raws)  # type: ignore[arg-type]

    monkeypatch.setattr(screening_batch, "analyse_frame", spy)
    monkeypatch.setattr(screening_batch, "_BULK_FROM", bulk_from)
    strays = FOREIGN + SERVICES + FAKES + INVALID + EMERGENCY + NEAR_MOBILES + DOMESTIC
    frame = pl.concat(
        [
            mixed_events(11, 2000).select("caller", "callee", "channel", "ingress"),
            pl.DataFrame(
                {
                    "caller": strays,
                    "callee": strays[::-1],
                    "channel": ["call", "sms"] * (len(strays) // 2) + ["call"] * (len(strays) % 2),
                    "ingress": ["international"] * len(strays),
                }
            ),
        ]
    )
    got = decide_frame(build_screener(), frame)
    # A fresh screener, so the reference never reads what the frame path left in the cache.
    assert observed(got) == expected(build_screener(), frame)
    assert bool(seen) == (bulk_from == 0) and (not seen or max(seen) > 0)
