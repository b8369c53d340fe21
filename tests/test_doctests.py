"""The examples in docstrings run, against the installed package."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import hippodex

# The package itself too: public classes re-exported there carry __module__ =
# "hippodex", so doctest finds their examples only through the package.
MODULES = [
    "hippodex",
    *sorted(
        m.name
        for m in pkgutil.walk_packages(hippodex.__path__, "hippodex.")
        if not m.name.endswith(("sentence_transformers", "__main__"))
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
