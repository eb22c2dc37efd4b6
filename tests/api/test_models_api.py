"""``/v1/models``: list, one version, promote and roll back with the ``approve`` permission."""

from __future__ import annotations

from pathlib import Path

import pytest

from telewarden.core.registry import DataRef, ModelKind, ModelVersion
from telewarden.core.screening import PolicySettings
from tests.api.conftest import NOW, Service, build


@pytest.fixture
def svc(tmp_path: Path) -> Service:
    from telewarden.adapters.memory_registry import MemoryModelRegistry
    from telewarden.adapters.sms_model import load_default_model, save_model
    from telewarden.services.model_registry import file_sha256

    service = build(console=False)
    service.store.set_policy(  # the SMS routes read message bodies: open the gate, with a basis
        PolicySettings(content_inspection=True, content_legal_basis="test: synthetic messages"),
        actor="test",
    )
    registry = MemoryModelRegistry(service.store)
    service.client.app.state.api.ctx.models = registry  # type: ignore[attr-defined]
    path = save_model(load_default_model(), tmp_path / "m.npz")
    for who in ("ana", "user:supervisor1"):
        registry.add_version(
            ModelVersion(
                ModelKind.SMS,
                0,
                str(path),
                file_sha256(path),
                who,
                NOW,
                (DataRef("zh_sms", 3),),
                {"f1": 0.9},
                "# card",
            )  # fmt: skip
        )
    return service


def test_supervisors_promote_and_roll_back_others_may_only_read(svc: Service) -> None:
    c = svc.client
    listed = c.get("/v1/models", headers=svc.as_("analyst")).json()
    assert [v["version"] for v in listed["versions"]] == [1, 2]
    assert listed["serving"] == {"sms": None, "numbers": None}
    for role in ("analyst", "auditor", "integrator"):
        r = c.post("/v1/models/sms/1/promote", json={"reason": "x"}, headers=svc.as_(role))
        assert r.status_code == 403, role
    own = c.post("/v1/models/sms/2/promote", json={"reason": "mine"}, headers=svc.as_("supervisor"))
    assert own.status_code == 409 and "registered by user:supervisor1" in own.json()["detail"]
    assert c.post("/v1/models/sms/1/promote", json={"reason": ""},
                  headers=svc.as_("supervisor")).status_code == 422  # fmt: skip
    ok = c.post(
        "/v1/models/sms/1/promote", json={"reason": "better"}, headers=svc.as_("supervisor")
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["actor"] == "user:supervisor1" and ok.json()["previous"] is None
    assert c.post("/v1/models/sms/2/promote", json={"reason": "newer"},
                  headers=svc.as_("admin")).status_code == 200  # fmt: skip
    assert c.get("/v1/models", headers=svc.as_("auditor")).json()["serving"]["sms"] == 2
    back = c.post("/v1/models/sms/rollback", json={"reason": "flags"}, headers=svc.as_("admin"))
    assert back.status_code == 200 and (back.json()["version"], back.json()["previous"]) == (1, 2)
    listed = c.get("/v1/models", headers=svc.as_("analyst")).json()
    assert listed["serving"]["sms"] == 1
    assert [h["action"] for h in listed["history"]] == ["promote", "promote", "rollback"]
    audit = svc.store.audit_log(entity="model_serving")
    assert {r.actor for r in audit} == {"user:supervisor1", "user:admin1"}


def test_one_version_with_its_card_and_clear_errors(svc: Service) -> None:
    c = svc.client
    one = c.get("/v1/models/sms/1", headers=svc.as_("analyst")).json()
    assert one["card"] == "# card" and one["data"] == [{"name": "zh_sms", "rows": 3, "ids": ""}]
    assert c.get("/v1/models/sms/9", headers=svc.as_("analyst")).status_code == 404
    assert c.get("/v1/models/fax/1", headers=svc.as_("analyst")).status_code == 422
    r = c.post("/v1/models/sms/rollback", json={"reason": "x"}, headers=svc.as_("supervisor"))
    assert r.status_code == 409 and "nothing to roll back" in r.json()["detail"]
    r = c.post("/v1/models/sms/1/promote", json={"reason": "x", "extra": 1},
               headers=svc.as_("supervisor"))  # fmt: skip
    assert r.status_code == 422
    assert c.get("/v1/models").status_code == 401


def test_sms_classification_uses_the_promoted_version_and_refuses_a_changed_file(
    svc: Service, tmp_path: Path
) -> None:
    import copy

    from telewarden.adapters.sms_model import load_default_model, save_model
    from telewarden.services.model_registry import file_sha256

    eager = copy.copy(load_default_model())
    eager.threshold_ = 1e-6
    eager.cjk_threshold_ = 1e-6 if eager.cjk_threshold_ is not None else None
    path = save_model(eager, tmp_path / "eager.npz")
    registry = svc.client.app.state.api.ctx.models  # type: ignore[attr-defined]
    registry.add_version(ModelVersion(ModelKind.SMS, 0, str(path), file_sha256(path), "ana", NOW))
    c, text = svc.client, {"text": "see you at eight"}
    assert (
        c.post("/v1/sms/classify", json=text, headers=svc.as_("analyst")).json()["verdict"] == "ok"
    )
    promoted = c.post("/v1/models/sms/3/promote", json={"reason": "try"}, headers=svc.as_("admin"))
    assert promoted.status_code == 200
    svc.client.app.state.api._sms.poll_s = 0.0  # type: ignore[attr-defined]  # no 5 s wait
    found = c.post("/v1/sms/classify", json=text, headers=svc.as_("analyst")).json()
    assert found["verdict"] != "ok", "the promoted version classifies"
    path.write_bytes(path.read_bytes() + b"!")
    svc.client.app.state.api._sms = None  # type: ignore[attr-defined]  # as a new worker
    refused = c.post("/v1/sms/classify", json=text, headers=svc.as_("analyst"))
    assert refused.status_code == 503 and "SHA-256" in refused.json()["detail"]


def test_number_scores_use_the_promoted_number_model_after_its_checksum(tmp_path: Path) -> None:
    import numpy as np
    import polars as pl

    from telewarden.adapters.memory_registry import MemoryModelRegistry
    from telewarden.adapters.number_model import load_default_model, save_model
    from telewarden.api import ApiConfig
    from telewarden.core.features.sichuan import FEATURE_NAMES
    from telewarden.services.model_registry import file_sha256

    rng = np.random.default_rng(1)
    frame = pl.DataFrame({n: rng.normal(size=1) for n in FEATURE_NAMES}).select(
        pl.Series("phone_no_m", ["+8613800138000"]), *FEATURE_NAMES
    )
    features = tmp_path / "features.csv"
    frame.write_csv(features)
    s = build(ApiConfig(change_poll_s=0.0, access_log=False, number_features=str(features)))
    registry = MemoryModelRegistry(s.store)
    s.client.app.state.api.ctx.models = registry  # type: ignore[attr-defined]
    path = save_model(load_default_model(), tmp_path / "numbers.json.gz")
    registry.add_version(
        ModelVersion(ModelKind.NUMBERS, 0, str(path), file_sha256(path), "ana", NOW)
    )
    url = "/v1/numbers/+8613800138000/score"
    shipped = s.client.get(url, headers=s.as_("analyst"))
    assert shipped.status_code == 200
    promoted = s.client.post(
        "/v1/models/numbers/1/promote", json={"reason": "own traffic"}, headers=s.as_("supervisor")
    )
    assert promoted.status_code == 200
    assert s.client.get(url, headers=s.as_("analyst")).json()["score"] == shipped.json()["score"]
    path.write_bytes(path.read_bytes() + b"!")
    refused = s.client.get(url, headers=s.as_("analyst"))
    assert refused.status_code == 503 and "SHA-256" in refused.json()["detail"]
