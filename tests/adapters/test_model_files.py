"""Model files carry a format version and a checksum and are checked before any native library.

Issue 12: a truncated number model aborted the process natively (rc 134), other damaged files
ended in tracebacks, and a 389 KB gzip bomb cost 1 GB before rejection.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from telewarden.adapters import number_model, sms_model
from telewarden.adapters.model_files import gunzip_bounded
from telewarden.core.errors import ConfigurationError

PACKAGE = Path(number_model.__file__).resolve().parents[1] / "data"
NUMBER_MODEL = PACKAGE / "numbers" / "model.json.gz"
SMS_MODEL = PACKAGE / "sms" / "default_model.npz"


def test_shipped_models_carry_a_version_and_a_checksum() -> None:
    envelope = json.loads(gzip.decompress(NUMBER_MODEL.read_bytes()))
    assert envelope["file_version"] == number_model.FILE_VERSION
    assert len(envelope["sha256"]) == 64
    with np.load(SMS_MODEL, allow_pickle=False) as z:
        assert json.loads(str(z["meta"]))["format_version"] == sms_model.FORMAT_VERSION == 2
        assert len(str(z["sha256"])) == 64


def test_truncated_number_models_get_one_clear_error_never_a_native_abort(tmp_path: Path) -> None:
    # In a child process: a native abort (rc 134) there fails this test instead of killing it.
    script = f"""
import gzip, sys
from pathlib import Path
from telewarden.adapters.number_model import load_model
from telewarden.core.errors import ConfigurationError
blob = Path({str(NUMBER_MODEL)!r}).read_bytes()
text = gzip.decompress(blob)
cases = [blob[: len(blob) // d] for d in (2, 3, 7)]
cases += [gzip.compress(text[: len(text) * k // 10]) for k in (3, 6, 9)]
cases += [gzip.compress(text.replace(b"end of trees", b"end of tree5"))]
for i, data in enumerate(cases):
    path = Path({str(tmp_path)!r}) / f"m{{i}}.json.gz"
    path.write_bytes(data)
    try:
        load_model(path)
    except ConfigurationError as exc:
        print("refused", exc)
    else:
        print("loaded", i)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("refused") == 7, done.stdout


def test_a_number_model_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * (300 << 20), compresslevel=9))
    assert bomb.stat().st_size < 400_000
    with pytest.raises(ConfigurationError, match="gzip bomb"):
        number_model.load_model(bomb)


def test_a_number_model_whose_checksum_does_not_match_is_refused(tmp_path: Path) -> None:
    envelope = json.loads(gzip.decompress(NUMBER_MODEL.read_bytes()))
    envelope["model"]["threshold"] = 0.01
    path = tmp_path / "tampered.json.gz"
    path.write_bytes(gzip.compress(json.dumps(envelope).encode()))
    with pytest.raises(ConfigurationError, match="checksum mismatch"):
        number_model.load_model(path)


def test_a_legacy_number_model_without_envelope_is_still_read(tmp_path: Path) -> None:
    model = json.loads(gzip.decompress(NUMBER_MODEL.read_bytes()))["model"]
    path = tmp_path / "legacy.json.gz"
    path.write_bytes(gzip.compress(json.dumps(model).encode()))
    assert number_model.load_model(path).threshold_ == model["threshold"]
    del model["booster"]
    path.write_bytes(gzip.compress(json.dumps(model).encode()))
    with pytest.raises(ConfigurationError, match="booster"):
        number_model.load_model(path)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_truncated_sms_models_get_one_clear_error(tmp_path: Path, cut: float) -> None:
    data = SMS_MODEL.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ConfigurationError):
        sms_model.load_model(path)


def _rewrite_npz(changes: dict[str, np.ndarray]) -> bytes:
    with np.load(SMS_MODEL, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    arrays.update(changes)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_a_damaged_sms_model_is_refused_by_its_checksum_or_its_checks(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(_rewrite_npz({"threshold": np.array([0.123])}))
    with pytest.raises(ConfigurationError, match="checksum mismatch"):
        sms_model.load_model(path)
    path.write_bytes(_rewrite_npz({"coef_idx": np.array([1 << 30], dtype=np.int32)}))
    with pytest.raises(ConfigurationError, match="differ in shape|out of range"):
        sms_model.load_model(path)


def test_an_sms_model_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (*sms_model._ARRAYS, "meta"):
            archive.writestr(f"{name}.npy", b"\0" * (40 << 20))
    path = tmp_path / "bomb.npz"
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 2_000_000
    with pytest.raises(ConfigurationError, match="more than"):
        sms_model.load_model(path)


def test_gunzip_bounded_refuses_truncated_data() -> None:
    with pytest.raises(ConfigurationError, match="truncated"):
        gunzip_bounded(gzip.compress(b"x" * 1000)[:-12], "m")
