"""Mapping canonical records to the Sichuan contest's four tables and back."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from telewarden.core import records as r
from telewarden.core.sichuan import (
    APP_COLUMNS,
    ARPU_MONTHS,
    SMS_COLUMNS,
    USER_COLUMNS,
    VOC_COLUMNS,
    SichuanMapper,
    from_app,
    from_sms,
    from_user,
    from_voc,
)

AT = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 in Beijing
A, B, OFF = "+8613800000001", "+8613900000002", "+8613000000003"


def _subscriber(msisdn: str, doc: str, activated: dt.datetime, cell: str) -> r.SubscriberRecord:
    return r.SubscriberRecord(
        msisdn, doc, activated, "四川", "成都", "武侯区", "p", "o", "imsi", "imei", cell, 58.0
    )


@pytest.fixture
def mapper() -> SichuanMapper:
    subs = r.frame_from_records(
        [
            _subscriber(A, "d1", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "c1"),
            _subscriber(B, "d1", dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "c2"),
        ],
        r.SUBSCRIBERS_SCHEMA,
    )
    cells = r.frame_from_records(
        [
            r.CellRecord("c1", "四川", "成都", "武侯区", 30.6, 104.0),
            r.CellRecord("c2", "四川", "绵阳", "涪城区", 31.4, 104.7),
        ],
        r.CELLS_SCHEMA,
    )
    return SichuanMapper(subs, cells)


def _call(id_: int, caller: str, callee: str, answered: bool = True, dur: int = 61) -> r.CallRecord:
    return r.CallRecord(
        id_,
        caller,
        callee,
        AT,
        5,
        dur if answered else 0,
        answered,
        "normal_clearing" if answered else "no_answer",
        "on_net",
        "onnet",
        "c1" if caller == A else None,
        "imei-a" if caller == A else None,
        None,
        "c2" if callee == B else None,
    )


def test_on_net_call_gives_one_row_per_subscriber_side(mapper: SichuanMapper) -> None:
    voc = mapper.to_voc(r.frame_from_records([_call(1, A, B)], r.CALLS_SCHEMA))
    assert voc.columns == list(VOC_COLUMNS)
    assert voc.rows() == [
        (A, B, 1, "2026-03-02 09:30:00", 61, "成都", "武侯区", "imei-a"),
        (B, A, 2, "2026-03-02 09:30:00", 61, "绵阳", "涪城区", None),
    ]


def test_unanswered_calls_are_left_out_and_off_net_parties_get_no_rows(
    mapper: SichuanMapper,
) -> None:
    calls = r.frame_from_records(
        [_call(1, A, OFF), _call(2, OFF, B, answered=False)], r.CALLS_SCHEMA
    )
    voc = mapper.to_voc(calls)
    assert voc.select("phone_no_m", "opposite_no_m", "calltype_id").rows() == [(A, OFF, 1)]


def test_sms_rows_mark_sent_and_received(mapper: SichuanMapper) -> None:
    sms = r.frame_from_records(
        [
            r.SmsRecord(1, A, B, AT, "on_net", "sms-onnet"),
            r.SmsRecord(2, "1069095588", A, AT, "domestic", "sms-port-1"),
        ],
        r.SMS_SCHEMA,
    )
    rows = mapper.to_sms(sms)
    assert rows.columns == list(SMS_COLUMNS)
    assert rows.select("phone_no_m", "calltype_id").rows() == [(A, 1), (B, 2), (A, 2)]


def test_app_sums_flow_per_number_app_and_beijing_month(mapper: SichuanMapper) -> None:
    late = dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC)  # already April 1st in Beijing
    usage = r.frame_from_records(
        [
            r.UsageRecord(A, AT, "wechat", 1.5),
            r.UsageRecord(A, AT + dt.timedelta(hours=1), "wechat", 2.0),
            r.UsageRecord(A, late, "wechat", 4.0),
        ],
        r.USAGE_SCHEMA,
    )
    app = mapper.to_app(SichuanMapper.app_partial(usage))
    assert app.columns == list(APP_COLUMNS)
    assert app.rows() == [(A, "wechat", 3.5, "2026-03"), (A, "wechat", 4.0, "2026-04")]


def test_user_counts_cards_per_id_and_fills_arpu_from_activation(mapper: SichuanMapper) -> None:
    subs = r.frame_from_records(
        [
            _subscriber(A, "d1", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "c1"),
            _subscriber(B, "d1", dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "c2"),
        ],
        r.SUBSCRIBERS_SCHEMA,
    )
    truth = r.frame_from_records(
        [r.TruthCardRecord(B, "call_centre", "cc-1", True, AT)], r.TRUTH_CARDS_SCHEMA
    )
    user = mapper.to_user(subs, truth, AT)
    assert user.columns == list(USER_COLUMNS)
    a, b = user.rows(named=True)
    assert (a["idcard_cnt"], b["idcard_cnt"]) == (2, 2)
    assert all(a[m] == 58.0 for m in ARPU_MONTHS)
    # activated one month before the simulated month: two months of ARPU, the rest empty
    assert [b[m] for m in ARPU_MONTHS] == [None] * 6 + [58.0, 58.0]
    assert (a["label"], b["label"]) == (0, 1)


def test_salt_hashes_numbers_consistently_across_tables() -> None:
    subs = r.frame_from_records(
        [_subscriber(A, "d1", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "c1")], r.SUBSCRIBERS_SCHEMA
    )
    mapper = SichuanMapper(subs, r.empty_frame(r.CELLS_SCHEMA), salt="s")
    voc = mapper.to_voc(r.frame_from_records([_call(1, A, OFF)], r.CALLS_SCHEMA))
    user = mapper.to_user(subs, None, AT)
    assert voc["phone_no_m"][0] == user["phone_no_m"][0]
    assert len(voc["phone_no_m"][0]) == 64 and A not in voc["phone_no_m"][0]
    assert voc["opposite_no_m"][0] != OFF


def test_calls_survive_a_round_trip_through_voc(mapper: SichuanMapper) -> None:
    calls = r.frame_from_records([_call(1, A, B, dur=75), _call(2, A, OFF, dur=12)], r.CALLS_SCHEMA)
    back = from_voc(mapper.to_voc(calls))
    assert back.schema == pl.Schema(r.CALLS_SCHEMA)
    assert back.select("caller", "callee", "start_at", "duration_s").sort("callee").rows() == [
        (A, OFF, AT, 12),
        (A, B, AT, 75),
    ]
    assert back.filter(pl.col("callee") == B)["imei"][0] == "imei-a"


def test_sms_app_and_user_map_back(mapper: SichuanMapper) -> None:
    sms = from_sms(
        pl.DataFrame(
            {
                "phone_no_m": [A],
                "opposite_no_m": [B],
                "calltype_id": [2],
                "request_datetime": ["2026-03-02 09:30:00"],
            }
        )
    )
    assert sms.schema == pl.Schema(r.SMS_SCHEMA)
    assert sms.select("sender", "recipient", "sent_at").row(0) == (B, A, AT)
    usage = from_app(
        pl.DataFrame(
            {"phone_no_m": [A], "busi_name": ["wechat"], "flow": [3.5], "month_id": ["2020-01"]}
        )
    )
    assert usage.schema == pl.Schema(r.USAGE_SCHEMA)
    assert usage["start_at"][0] == dt.datetime(2019, 12, 31, 16, tzinfo=dt.UTC)
    user = from_user(
        pl.DataFrame(
            {
                "phone_no_m": [A],
                "city_name": ["成都"],
                "county_name": ["武侯区"],
                "idcard_cnt": [1],
                **{m: [None if i < 6 else 10.0 * i] for i, m in enumerate(ARPU_MONTHS)},
                "label": [1],
            }
        )
    )
    assert user.row(0) == (A, "成都", "武侯区", 1, 65.0, 1)
