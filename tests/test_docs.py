"""The README documents every CLI command and every public name."""

from __future__ import annotations

from pathlib import Path

import pytest

import hippodex
from hippodex.bench.cli import bench_app
from hippodex.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands() -> list[str]:
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    names += [f"bench {c.name or (c.callback.__name__ if c.callback else '')}" for c in bench_app.registered_commands]
    return [n.rstrip("_").replace("_", "-") for n in names]


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    assert f"hippodex {command}" in README


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_has_help(command: str) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_readme_opens_with_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:15])
    assert "pip install . && hippodex demo" in head
    assert "pip install '.[test]' && python -m pytest -q" in head
    assert (
        "pip install '.[test]' && python -m pytest -q" in (Path(__file__).resolve().parents[1] / ".ci/run").read_text()
    )


@pytest.mark.parametrize("name", [n for n in hippodex.__all__ if not n.startswith("_")])
def test_public_names_have_docstrings(name: str) -> None:
    assert (getattr(hippodex, name).__doc__ or "").strip(), name
