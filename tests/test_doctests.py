"""The examples in docstrings run, against the installed package."""

from __future__ import annotations

import doctest
import importlib
import inspect
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


# Methods of those re-exported classes live in their defining module, so testmod
# of neither module finds them (``Memory.context``'s example had drifted unseen).
PUBLIC_CLASSES = [obj for name in hippodex.__all__ if inspect.isclass(obj := getattr(hippodex, name))]


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_public_method_examples(cls: type) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(cls, cls.__name__, module=False, globs=vars(hippodex).copy()):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {cls.__name__}'s methods"
