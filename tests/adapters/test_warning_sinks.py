"""Warning sinks: the push webhook against a real local HTTP server, the files, the flag reader."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.warning_sinks import (
    CallListSink,
    SmsOutboxSink,
    WebhookSink,
    read_flags,
    write_queue,
)
from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import Flag
from telewarden.core.warning import WarningEngine, WarningNotice

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def _warnings() -> tuple[WarningEngine, list[WarningNotice]]:
    engine = WarningEngine()
    engine.on_call(1, "+8617000000000", "+8613800000001", T0, 5, 900, True)  # high: call list
    engine.on_call(2, "+8617000000000", "+8613800000002", T0, 5, 150, True)  # medium
    flag = Flag("+8617000000000", "msisdn", "sim_bank_imei", T0 + dt.timedelta(minutes=30), "x")
    return engine, engine.on_flag(flag)


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[dict[str, object]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"bodies": [], "status": 200})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/push", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_webhook_posts_each_warning_as_json(server: tuple[str, type[_Recorder]]) -> None:
    url, handler = server
    _engine, warnings = _warnings()
    sink = WebhookSink(url, headers={"Authorization": "Bearer t"})
    assert all(sink.deliver(w) for w in warnings)
    assert sink.sent == 2 and sink.failed == 0
    assert {b["msisdn"] for b in handler.bodies} == {w.msisdn for w in warnings}
    assert "96110" in str(handler.bodies[0]["text_zh"])


def test_webhook_counts_a_refusal_and_an_unreachable_service(
    server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = server
    handler.status = 500
    _engine, warnings = _warnings()
    sink = WebhookSink(url, timeout_s=2)
    assert sink.deliver(warnings[0]) is False
    down = WebhookSink("http://127.0.0.1:9/push", timeout_s=1)  # discard port: nothing listens
    assert down.deliver(warnings[0]) is False
    assert (sink.failed, down.failed) == (1, 1)
    with pytest.raises(InvalidInputError):
        WebhookSink("ftp://example.org")


def test_outbox_and_call_list_files_hold_what_they_should(tmp_path: Path) -> None:
    engine, warnings = _warnings()
    outbox, calls = SmsOutboxSink(tmp_path / "sms.csv"), CallListSink(tmp_path / "calls.csv")
    for w in warnings:
        outbox.deliver(w)
        calls.deliver(w)
    outbox.close()
    calls.close()
    sms = pl.read_csv(tmp_path / "sms.csv")
    assert sms.height == 2 and sms["text_zh"].str.contains("96110").all()
    call_list = pl.read_csv(tmp_path / "calls.csv")
    assert call_list["msisdn"].to_list() == ["+8613800000001"]  # only the high-risk one
    write_queue(tmp_path / "queue.csv", engine.prioritised())
    queue = pl.read_csv(tmp_path / "queue.csv")
    assert queue["risk"].to_list() == sorted(queue["risk"].to_list(), reverse=True)
    assert not list(tmp_path.glob(".*.tmp"))


def test_flag_file_rows_are_read_or_set_aside_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "flags.csv"
    path.write_text(
        "subject,kind,source,at,reason,fraud_type\n"
        "+23225848160,msisdn,case,2026-03-01T19:00:00+00:00,reported,wangiri\n"
        "ETC-renz.com,domain,list,2026-03-01T19:00:00+00:00,deny list,\n"
        "x,planet,case,2026-03-01T19:00:00+00:00,?,\n"
        "y,wallet,case,yesterday,?,\n"
        "z,wallet,case,2026-03-01T19:00:00,?,\n"
    )
    flags, rejected = read_flags(path)
    assert [(f.subject, f.evidence) for f in flags] == [
        ("+23225848160", {"fraud_type": "wangiri"}),
        ("etc-renz.com", {}),
    ]
    assert [line for line, _ in rejected] == [4, 5, 6]
    assert "planet" in rejected[0][1] and "time zone" in rejected[2][1]
    (tmp_path / "bad.csv").write_text("subject,kind\nx,msisdn\n")
    with pytest.raises(InvalidInputError, match="missing column"):
        read_flags(tmp_path / "bad.csv")
