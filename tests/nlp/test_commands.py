from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.nlp.commands import run_tag
from monitor.nlp.multilingual import MultilingualTagger
from monitor.nlp.settings import NlpSettings
from tests.nlp.conftest import CONFIG_DIR, FIXTURES


def _run(data: bytes, tagger: MultilingualTagger, jsonl: bool) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_tag(io.BytesIO(data), out, tagger, jsonl, name="in.txt", stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_single_article_prints_the_contract_object(multilingual: MultilingualTagger) -> None:
    text = "Moldova Votes\nVoters went to the polls, the commission said."
    code, out, err = _run(text.encode(), multilingual, jsonl=False)
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert set(payload) == {"statements", "entities", "boilerplate", "language"}
    assert payload["language"] == "en"
    statement = payload["statements"][1]
    assert set(statement) == {"text", "start", "end", "tags", "speaker", "quote", "evidence"}
    assert statement["tags"] == ["election"]
    assert set(statement["evidence"][0]) == {"tag", "text", "start", "end"}
    assert set(payload["entities"][0]) == {"text", "label", "start", "end"}


def test_jsonl_streams_one_line_per_input_and_survives_bad_lines(
    multilingual: MultilingualTagger,
) -> None:
    data = (
        b'{"id": "a", "text": "Russia denied meddling in the election."}\n'
        b"\n"
        b"not json\n"
        b'{"id": 7, "text": 5}\n'
        b'{"id": "z", "text": "Quiet day."}\n'
    )
    code, out, err = _run(data, multilingual, jsonl=True)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["a", None, 7, "z"]
    assert lines[0]["statements"][0]["tags"] == ["election", "foreign_interference"]
    assert "error" in lines[1] and "error" in lines[2] and "error" not in lines[3]
    assert code == 1  # bad lines are a runtime failure (2 is usage); the rest are tagged
    assert err.splitlines() == [
        "error: in.txt:3: invalid JSON: Expecting value at column 1",
        'error: in.txt:4: "text" must be a string',
    ]


def test_undecodable_and_binary_input_fail_with_one_line(multilingual: MultilingualTagger) -> None:
    code, out, err = _run(b"\xff\xfe\x00junk", multilingual, jsonl=False)
    assert (code, out) == (1, "")
    assert err == "error: in.txt: not UTF-8 text (bad byte at offset 0)\n"
    code, out, err = _run(b"abc\x00\x01\x02def", multilingual, jsonl=False)
    assert code == 1 and err.startswith("error: in.txt: input looks binary")


def test_cli_reads_a_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--config", str(CONFIG_DIR / "monitor.yaml"), "tag", str(FIXTURES / "no-cue.txt")],
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["statements"]) == 5


def test_cli_missing_file_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "absent.txt"
    result = CliRunner().invoke(
        cli, ["--config", str(CONFIG_DIR / "monitor.yaml"), "tag", str(missing)]
    )
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {missing}: No such file or directory"


def test_article_longer_than_max_chars_is_tagged_to_the_end_without_warnings() -> None:
    small = MultilingualTagger.from_settings(NlpSettings(max_chars=500), CONFIG_DIR)
    paragraph = "The river rose after a week of rain. Farmers moved their cattle.\n"
    text = "Floods\n" + paragraph * 200 + "Voters went to the polls, the commission said.\n"
    code, out, err = _run(text.encode(), small, jsonl=False)
    assert code == 0 and err == ""
    statements = json.loads(out)["statements"]
    assert len(statements) == 1 + 2 * 200 + 1
    assert all(text[s["start"] : s["end"]] == s["text"] for s in statements)
    assert statements[-1]["tags"] == ["election"]


def test_jsonl_takes_a_feed_entry_author_for_a_frame_naming_nobody(
    multilingual: MultilingualTagger,
) -> None:
    text = "Press Statement\nThe United States condemns the sham referendum in the region."
    lines = [
        {"id": "framed", "text": text, "author": "Jane Doe"},
        {"id": "plain", "text": "Quiet day\nThe market rose.", "author": "Jane Doe"},
        {"id": "bad", "text": "x", "author": 5},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    code, out, err = _run(data, multilingual, jsonl=True)
    framed, plain, bad = (json.loads(line) for line in out.splitlines())
    assert framed["statements"][1]["speaker"] == "Jane Doe"
    # No frame: a feed's author (a reporter, as a rule) speaks for nothing.
    assert [s["speaker"] for s in plain["statements"]] == [None, None]
    assert "error" in bad and code == 1
    assert err.strip() == 'error: in.txt:3: "author" must be a string when given'
