from pathlib import Path

import pytest

import classifier
from classifier.cli import ConfigBuildings

CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="session")
def clf():
    return classifier.load(ConfigBuildings(str(CONFIG)))


@pytest.fixture(scope="session")
def bare():
    return classifier.load()
