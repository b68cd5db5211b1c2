"""睦邻 classifier: is a group message a resident's request, which category, how urgent, where.

    clf = classifier.load(config)   # config: None or an object with building_aliases()
    clf.classify("3号楼2单元楼道灯不亮了")
"""
from __future__ import annotations

from pathlib import Path

from classifier.model import Classification, Location
from classifier.rules import DEFAULT_RULES, RulesError

__all__ = ["load", "Classification", "Location", "RulesError", "DEFAULT_RULES"]

_loaded: dict[tuple, object] = {}


def load(config=None, rules_path: str | Path | None = None):
    """The Classifier for these rules and buildings; cached so jieba loads once per process."""
    from classifier.engine import Classifier
    from classifier.linear import load_models
    from classifier.location import BuildingIndex
    from classifier.rules import load_rules
    from classifier.train import MODEL_PATH

    path = Path(rules_path or DEFAULT_RULES).resolve()
    aliases = {str(k): [str(a) for a in v] for k, v in config.building_aliases().items()} if config is not None else None
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0,
           tuple(sorted((k, tuple(v)) for k, v in aliases.items())) if aliases is not None else None)
    if key not in _loaded:
        _loaded[key] = Classifier(load_rules(path), load_models(MODEL_PATH),
                                  BuildingIndex(aliases) if aliases is not None else None)
    return _loaded[key]
