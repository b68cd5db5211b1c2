"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when MULIN_TEST_DATABASE_URL is set)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

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
    # each test starts from an empty database, whatever an earlier run (of another version) left in it
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
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


@pytest.fixture(scope="session")
def street_config_text() -> str:
    """config.yaml split into two communities: g1 (the A1A2 group) is 奎星楼 with 李书记, g2 and g3 are 东苑
    with 陈书记; a street officer 王主任 of 奎星楼街道 gets the digest over both (scenario street.yaml)."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for old, new in (
            ("  name: 奎星楼社区\n", "  name: 奎星楼街道\n"),
            ("community:\n", "communities: [{id: kxl, name: 奎星楼社区}, {id: dy, name: 东苑社区}]\ncommunity:\n"),
            ("role: secretary, wechat_id: wxid_lishuji}", "role: secretary, community: kxl, wechat_id: wxid_lishuji}\n"
             "  - {id: chenshuji, name: 陈书记, role: secretary, community: dy, wechat_id: wxid_chenshuji}\n"
             "  - {id: jiedao, name: 街道王主任, role: street, wechat_id: wxid_jiedao}"),
            ("    worker: wangfang\n", "    worker: wangfang\n    community: kxl\n"),
            ("    worker: zhaoqiang\n", "    worker: zhaoqiang\n    community: dy\n"),
            ("    worker: liuyang\n", "    worker: liuyang\n    community: dy\n"),
            ("  to_staff_groups: false", "  street: true\n  to_staff_groups: false")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="session")
def street_config(street_config_text):
    from core.config import parse_config

    return parse_config(street_config_text, "street config")
