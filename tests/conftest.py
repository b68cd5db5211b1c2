"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when MULIN_TEST_DATABASE_URL is set)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlmodel import SQLModel

from core.config import load_config
from storage import schema
from storage.db import make_engine

# machines here are noisy and shared: no per-example deadline, no "too slow" health check, so no flakes
settings.register_profile("mulin", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mulin")

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("MULIN_TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/mulin.db"
    url = os.environ["MULIN_TEST_DATABASE_URL"]
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)  # each test starts from an empty database
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    schema.build(engine)  # at head without running the migrations: test_migrations proves them the same
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="session")
def classifier(config):
    import classifier as clf

    return clf.load(config)
