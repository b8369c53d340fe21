"""The public surface is deliberate: __all__ lists exactly the exported names."""

from __future__ import annotations

import types

import hippodex


def test_all_is_sorted_and_complete() -> None:
    # Submodules become package attributes once imported; they are not API names.
    public = {n for n, v in vars(hippodex).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert set(hippodex.__all__) - {"__version__"} == public
    assert hippodex.__all__ == sorted(hippodex.__all__, key=lambda n: (n.startswith("_"), n))


def test_public_classes_report_the_package_as_module() -> None:
    assert hippodex.Memory.__module__ == "hippodex"
    assert repr(hippodex.Memory).startswith("<class 'hippodex.Memory'")


def test_errors_form_one_tree() -> None:
    for name in (
        "ConfigError",
        "ValidationError",
        "StoreError",
        "SchemaError",
        "EncoderError",
        "MemoryNotFound",
        "ImportFormatError",
    ):
        assert issubclass(getattr(hippodex, name), hippodex.HippodexError)
    assert issubclass(hippodex.ValidationError, ValueError)
    assert issubclass(hippodex.MemoryNotFound, KeyError)
