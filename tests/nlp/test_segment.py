from __future__ import annotations

from monitor.nlp.boilerplate import split_lines
from monitor.nlp.segment import quote_spans, quote_text, sentence_spans, statement_spans


def _statements(text: str, skip: list[bool] | None = None) -> list[str]:
    lines = split_lines(text)
    spans = statement_spans(text, lines, skip or [False] * len(lines))
    return [text[s:e] for s, e in spans]


def test_headline_is_one_statement_and_body_splits_into_sentences() -> None:
    text = "Vote Set For May. Parties Agree\nThe vote is on May 4. Mr. Smith said so."
    assert _statements(text) == [
        "Vote Set For May. Parties Agree",
        "The vote is on May 4.",
        "Mr. Smith said so.",
    ]


def test_text_without_line_break_has_no_headline() -> None:
    assert _statements("One sentence. Two sentences.") == ["One sentence.", "Two sentences."]


def test_initials_and_abbreviations_do_not_end_sentences() -> None:
    text = "J. D. Vance spoke in Washington, D.C. on Monday. He left for the U.S. Capitol."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "J. D. Vance spoke in Washington, D.C. on Monday.",
        "He left for the U.S. Capitol.",
    ]


def test_multi_sentence_quote_stays_with_its_attribution() -> None:
    text = "“We lost. We accept it,” the leader said. Then she left."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "“We lost. We accept it,” the leader said.",
        "Then she left.",
    ]


def test_straight_quotes_also_link_sentences() -> None:
    text = '"It is over. Go home," he said. Nobody moved.'
    assert len(sentence_spans(text, 0, len(text))) == 2


def test_skipped_lines_produce_no_statements() -> None:
    text = "Headline\nBody one.\nDonate now."
    assert _statements(text, [False, False, True]) == ["Headline", "Body one."]


def test_quote_spans_cover_curly_straight_and_single_quotes() -> None:
    sentence = "Kremlin Says Opposition Should ‘Accept Defeat’"
    assert [sentence[s:e] for s, e in quote_spans(sentence)] == ["Accept Defeat"]
    sentence = "He called it 'a farce' and \"a sham\"."
    assert [sentence[s:e] for s, e in quote_spans(sentence)] == ["a farce", "a sham"]


def test_apostrophes_are_not_quotes() -> None:
    sentence = "Venezuela’s opposition and Russia’s leaders met at O’Hare."
    assert quote_spans(sentence) == []


def test_quote_text_joins_fragments_and_drops_trailing_comma() -> None:
    sentence = "“We will win,” she said, calling it “a new start”."
    assert quote_text(sentence, quote_spans(sentence)) == "We will win … a new start"
    assert quote_text("No quotes here.", []) is None


def test_quote_running_into_the_next_paragraph_stays_one_statement() -> None:
    text = "“We will not give up. The vote was stolen. We fight on"
    assert sentence_spans(text, 0, len(text)) == [(0, len(text))]
    assert quote_text(text, quote_spans(text)) == text[1:]
