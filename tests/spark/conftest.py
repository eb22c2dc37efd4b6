"""One local Spark session for the whole test session (starting a JVM costs tens of seconds).

The Spark tests skip with a message when pyspark or a Java runtime is missing locally, and fail
instead under ``CI=true`` when pyspark is installed: CI must run the parity tests, not skip them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def _java_present() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and os.path.isfile(f"{home}/bin/java"))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A ``local[2]`` SparkSession with the engine's parity settings."""
    has_pyspark = importlib.util.find_spec("pyspark") is not None
    if not has_pyspark:
        pytest.skip("pyspark is not installed (uv sync installs it with the dev group)")
    if not _java_present():
        message = "no Java runtime (java on PATH or JAVA_HOME) for the Spark tests"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; pyspark is installed, so CI must run them")
        pytest.skip(message)
    from telewarden.adapters.spark.session import spark_session

    session = spark_session("local[2]", "telewarden-tests", local_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
