from pathlib import Path

import pytest

import classifier
from classifier.cli import ConfigBuildings
from classifier.engine import _Message
from classifier.features import char_features
from classifier.tokenize import normalise

CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="session")
def clf():
    return classifier.load(ConfigBuildings(str(CONFIG)))


@pytest.fixture(scope="session")
def bare():
    return classifier.load()


@pytest.fixture(scope="session")
def forced(clf):
    """forced(text, p[, on]): the full rule path on `text` with the request model's say fixed at p, to test what the
    rules decide whatever the model thinks; `on` another Classifier than the shipped one."""
    def decide(text: str, p: float, on=None):
        norm = normalise(text)
        return _Message(on or clf, norm, char_features(norm), p).decide()
    return decide
