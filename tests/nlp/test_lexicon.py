from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.nlp.lexicon import Lexicon, load_lexicon
from tests.nlp.conftest import CONFIG_DIR


def _copy_lexicon(tmp_path: Path) -> Path:
    folder = tmp_path / "nlp"
    shutil.copytree(CONFIG_DIR / "nlp", folder)
    return folder


def test_project_lexicon_loads_with_the_seed_entities(lexicon: Lexicon) -> None:
    russia = next(c for c in lexicon.gazetteer.countries if c.name == "Russia")
    assert "Kremlin" in russia.seats and "Moscow" in russia.places
    assert any(p.name == "Dmitry Peskov" for p in lexicon.gazetteer.people)
    assert "election" in lexicon.cues.election.strong
    assert "said" in lexicon.speech.verbs


def test_unknown_key_is_reported_with_file_and_key(tmp_path: Path) -> None:
    folder = _copy_lexicon(tmp_path)
    with (folder / "cues.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\nsurprise: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_lexicon(folder)
    problem = caught.value.problems[0]
    assert problem.source.endswith("cues.yaml")
    assert problem.key == "surprise"


def test_wrong_type_names_the_nested_key(tmp_path: Path) -> None:
    folder = _copy_lexicon(tmp_path)
    (folder / "speech.yaml").write_text("verbs: [said]\nfillers: [on]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_lexicon(folder)
    assert [p.key for p in caught.value.problems] == ["fillers.0"]


def test_broken_yaml_and_missing_file_are_both_reported(tmp_path: Path) -> None:
    folder = _copy_lexicon(tmp_path)
    (folder / "gazetteer.yaml").write_text("countries: [unclosed\n", encoding="utf-8")
    (folder / "boilerplate.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_lexicon(folder)
    messages = [str(p) for p in caught.value.problems]
    assert any("gazetteer.yaml" in m and "invalid YAML" in m for m in messages)
    assert any("boilerplate.yaml" in m and "cannot read" in m for m in messages)


def test_topical_cue_that_is_not_weak_is_refused(tmp_path: Path) -> None:
    folder = _copy_lexicon(tmp_path)
    text = (folder / "cues.yaml").read_text(encoding="utf-8")
    (folder / "cues.yaml").write_text(text.replace("  topical: [", "  topical: [zebra, "))
    with pytest.raises(ConfigError) as caught:
        load_lexicon(folder)
    (problem,) = caught.value.problems
    assert problem.key == "foreign_interference"
    assert "zebra" in problem.message


def test_passive_phrase_that_is_not_two_words_is_refused(tmp_path: Path) -> None:
    folder = _copy_lexicon(tmp_path)
    text = (folder / "speech.yaml").read_text(encoding="utf-8")
    text = text.replace("passive_phrases: [", "passive_phrases: [of, ")
    (folder / "speech.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_lexicon(folder)
    (problem,) = caught.value.problems
    assert problem.source.endswith("speech.yaml")
    assert "passive_phrases must be two words each: of" in problem.message


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lexicon folder not found"):
        load_lexicon(tmp_path / "nowhere")
