"""`telewarden demo --serve` on a tiny day: the printed login reads the day's cases over /v1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.api.live import free_port


@pytest.mark.slow
def test_demo_serve_keeps_the_day_and_serves_it_with_the_printed_login(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TELEWARDEN_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("TELEWARDEN_DATABASE_URL", None)
    log = (tmp_path / "demo.log").open("w+b")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "telewarden.cli.main", "demo", "--preset", "tiny",
            "--seed", "11", "--out", str(tmp_path / "tiny"), "--serve", "--port", str(port),
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        text = ""
        while "serving until Ctrl-C" not in text:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            assert time.monotonic() < deadline, text[-3000:]
            time.sleep(0.5)
            text = (tmp_path / "demo.log").read_text(errors="replace")
        address = re.search(r"console: (http://\S+)/console/", text)
        login = re.search(r"login: supervisor  password: (\S+)", text)
        assert address is not None and login is not None, text[-2000:]
        url = address.group(1)
        for _ in range(100):
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = httpx.post(
            f"{url}/v1/auth/login", json={"username": "supervisor", "password": login.group(1)}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        cases = httpx.get(f"{url}/v1/cases?limit=500", headers=headers, timeout=30).json()
        assert cases["items"], "the demo's day has cases"
        first = httpx.get(f"{url}/v1/cases/{cases['items'][0]['id']}", headers=headers).json()
        assert first["evidence"] and first["measures"]
        measures = httpx.get(f"{url}/v1/measures", headers=headers).json()
        assert measures["count"] >= 1
        kept = re.search(r"([\d,]+) warnings; the console's clock", " ".join(text.split()))
        assert kept is not None, text[-2000:]
        warned = httpx.get(f"{url}/v1/warnings", headers=headers).json()["total"]
        assert warned == int(kept.group(1).replace(",", "")), "the printed warnings are served"
        assert httpx.get(f"{url}/console/login").status_code == 200
        # The demo opens the legal gate on its own synthetic traffic only, and says so.
        assert "content inspection on: simulated traffic, no subscriber content" in text
        served = httpx.get(f"{url}/v1/policy", headers=headers).json()["policy"]
        assert served["content_inspection"] is True
        assert served["content_legal_basis"] == "simulated traffic, no subscriber content"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
