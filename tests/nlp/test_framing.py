"""Framing: who speaks in an official document, from its headers and turns."""

from __future__ import annotations

import pytest

from monitor.nlp.framing import FramingRules, find_frames
from monitor.nlp.lexicon import Lexicon
from monitor.nlp.names import Attribution
from monitor.nlp.tagger import Tagger


@pytest.fixture(scope="module")
def rules(lexicon: Lexicon) -> FramingRules:
    return FramingRules.from_lexicon(lexicon.speech.framing)


def _nobody(_line: str) -> Attribution | None:
    return None


def _authors(text: str, rules: FramingRules) -> list[str | None]:
    spans = [(m, m + len(line)) for m, line in _lines(text)]
    return list(find_frames(text, spans, rules, _nobody).authors)


def _lines(text: str) -> list[tuple[int, str]]:
    out, at = [], 0
    for line in text.split("\n"):
        if line:
            out.append((at, line))
        at += len(line) + 1
    return out


def test_transcript_turns_frame_the_lines_after_them(rules: FramingRules) -> None:
    text = (
        "Meeting with election officials\n"
        "President of Russia Vladimir Putin: Good afternoon.\n"
        "I am delighted to welcome you.\n"
        "Ella Pamfilova: Thank you.\n"
        "The results are unprecedented."
    )
    assert _authors(text, rules) == [
        None,
        "President of Russia Vladimir Putin",
        "President of Russia Vladimir Putin",
        "Ella Pamfilova",
        "Ella Pamfilova",
    ]


def test_one_turn_opening_a_speech_frames_it_but_a_headline_does_not(
    rules: FramingRules,
) -> None:
    speech = (
        "President of Russia Vladimir Putin: Citizens of Russia, friends,\n"
        "The official results were announced today.\n"
        "The campaign was intense."
    )
    assert _authors(speech, rules) == ["President of Russia Vladimir Putin"] * 3
    headline = (
        "Russian Foreign Ministry Spokeswoman: West meddles in elections\n"
        "The vote was calm.\n"
        "Turnout was high."
    )
    assert _authors(headline, rules) == ["Russian Foreign Ministry Spokeswoman", None, None]
    short = "Vladimir Putin: Citizens of Russia, friends,\nThe results were announced today."
    assert _authors(short, rules) == ["Vladimir Putin", None]  # a name alone may be a headline's


def test_a_statement_released_by_its_authors_in_the_passive_frames_the_body(
    rules: FramingRules,
) -> None:
    text = (
        "The text of the following statement was released by the Governments of Canada "
        "and the United Kingdom on electoral interference targeting Moldova\n"
        "We, the governments of Canada and the United Kingdom, are united.\n"
        "Free and fair elections are the cornerstone of democracy."
    )
    authors = _authors(text, rules)
    assert authors[1:] == ["Governments of Canada and the United Kingdom"] * 2


def test_a_byline_under_the_summary_sentence_frames_the_speech(rules: FramingRules) -> None:
    # A GOV.UK speech page: title with "UK statement", a summary, the speaker's name.
    text = (
        "Report by the Head of the OSCE Mission to Moldova: UK statement, November 2024\n"
        "Ambassador Holland thanks the Head of Mission for the update.\n"
        "Neil Holland\n"
        "I would like to welcome Ambassador Keiderling back to the Permanent Council.\n"
        "Moldovans deserve free and fair elections."
    )
    frames = find_frames(text, [(m, m + len(x)) for m, x in _lines(text)], rules, _nobody)
    assert frames.authors == ("UK", None, None, "Neil Holland", "Neil Holland")
    assert 2 in frames.frame_lines
    # No summary sentence above it: a later name line is not a byline.
    plain = text.replace("Ambassador Holland thanks the Head of Mission for the update.\n", "")
    assert _authors(plain, rules)[-1] == "Neil Holland"  # the byline right under the header


def test_a_statement_header_and_byline_frame_the_body(rules: FramingRules) -> None:
    text = (
        "U.S. Embassy Statement on Local Elections (June 22, 2015)\n"
        "U.S. Embassy Tirana\n"
        "We congratulate the citizens of Albania on a peaceful vote.\n"
        "JUNE 22, 2015"
    )
    frames = find_frames(text, [(m, m + len(x)) for m, x in _lines(text)], rules, _nobody)
    assert frames.authors == ("U.S. Embassy", None, "U.S. Embassy Tirana", None)
    assert frames.frame_lines == frozenset({1})  # the byline is nobody's statement


def test_a_byline_title_under_the_name_does_not_replace_it(rules: FramingRules) -> None:
    text = (
        "Attack on the Elections Commission\n"
        "Press Statement\n"
        "Jane Doe\n"
        "Department Spokesperson\n"
        "May 2, 2018\n"
        "The United States strongly condemns the attack."
    )
    frames = find_frames(text, [(m, m + len(x)) for m, x in _lines(text)], rules, _nobody)
    assert frames.authors[-1] == "Jane Doe"
    assert frames.frame_lines >= {2, 3}  # the name and its title are nobody's statements


def test_a_speech_opening_takes_the_byline_above_it(rules: FramingRules) -> None:
    text = (
        "Russia is attempting to apply a veneer of legitimacy: UK statement to the OSCE\n"
        "Neil Holland\n"
        "Thank you, Madam Chair.\n"
        "Russia is holding its election against the will of the people."
    )
    assert _authors(text, rules) == ["UK", None, "Neil Holland", "Neil Holland"]


@pytest.mark.parametrize(
    "text",
    [
        "Note: figures are provisional.\nTurnout was 61 percent.",  # a label, not a speaker
        "Wikinews Shorts: August 13, 2009\nThe vote was held on Sunday.",  # a date after it
    ],
)
def test_no_frame_in_ordinary_news(rules: FramingRules, text: str) -> None:
    assert _authors(text, rules)[1:] == [None]


def test_the_tagger_keeps_third_party_attributions_inside_a_frame(tagger: Tagger) -> None:
    text = (
        "Statement by the Spokesperson on the elections in Ruritania\n"
        "The EU notes the conduct of the vote.\n"
        "Observers said turnout was low, according to the OSCE mission.\n"
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1] == "Spokesperson"
    assert speakers[2] == "OSCE mission"


def test_a_described_third_party_in_reported_speech_keeps_its_name_inside_a_frame(
    tagger: Tagger,
) -> None:
    text = (
        "UK Statement to the OSCE\n"
        "Russia quoted from the front page of a local UK newspaper, the Hull Daily Mail.\n"
        "The newspaper itself has made clear that the image had been faked.\n"
        "The UK condemns this deception.\n"
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1:] == ["UK", "Hull Daily Mail", "UK"]


def test_a_speaker_introducing_themselves_frames_the_text(rules: FramingRules) -> None:
    text = "How to vote\nHello, everyone. This is Georgia, and I will show you how.\nClick Start."
    assert _authors(text, rules)[1:] == ["Georgia", "Georgia"]


def test_an_institution_headline_frames_a_text_speaking_as_we(rules: FramingRules) -> None:
    statement = (
        "U.S. Embassy Stands by its Assessment of the Electoral Process\n"
        "We remain confident in the commission.\n"
    )
    news = "Russian Embassy Denies Meddling in the Vote\nThe embassy called the report false.\n"
    assert _authors(statement, rules) == ["U.S. Embassy", "U.S. Embassy"]
    assert _authors(news, rules) == [None, None]


def test_a_heading_ending_in_a_colon_and_a_name_is_that_name(rules: FramingRules) -> None:
    assert _authors("Clean sweep in north: Katter\nThe party expects seats.", rules) == [
        "Katter",
        None,
    ]


def test_an_interview_template_marks_turns_with_images(rules: FramingRules) -> None:
    text = (
        "Interview with a founder\n"
        "Site waves Left.pngLaura HaleSite waves Right.png You are from Canada?\n"
        "Duncan Campbell: Yes, from Winnipeg.\n"
        "(laughter)\n"
        "Site waves Left.pngLaura HaleSite waves Right.png I do not know hockey."
    )
    assert _authors(text, rules) == [None, "Laura Hale", "Duncan Campbell", None, "Laura Hale"]


@pytest.mark.parametrize(
    ("title", "asker"),
    [
        ("Secretary Michael R. Pompeo With Wolf Blitzer of CNN's The Situation Room",
         "Wolf Blitzer"),
        ("Interview With Secretary Antony J. Blinken with Margaret Brennan of CBS",
         "Margaret Brennan"),
        # Two officials meeting: nobody in the title asks the questions.
        ("Secretary Michael R. Pompeo With Prime Minister Netanyahu", None),
    ],
)  # fmt: skip
def test_an_interview_title_gives_the_question_turns_to_the_journalist(
    rules: FramingRules, title: str, asker: str | None
) -> None:
    text = f"{title}\nQUESTION: Mr. Secretary, thank you.\nSECRETARY POMPEO: Thank you, Wolf."
    assert _authors(text, rules) == [None, asker, "SECRETARY POMPEO"]


def test_a_speaker_line_before_a_quotation_frames_it_up_to_its_close(
    rules: FramingRules,
) -> None:
    text = (
        "We asked two experts about the vote.\n"
        "William Courtney, a former ambassador, senior analyst at RAND:\n"
        "“I think the government takes a risk.\n"
        "It knows the history.”\n"
        "The count went on.\n"
        "Jane Roe, Chatham House:\n"
        "“The result matters.”"
    )
    assert _authors(text, rules) == [
        None, "William Courtney", "William Courtney", "William Courtney", None,
        "Jane Roe", "Jane Roe",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Results by region:\n“North” 52 percent.",  # no name before the colon
        "William Courtney, analyst:\nThe government takes a risk.",  # no quotation follows
    ],
)
def test_a_colon_line_without_a_name_and_a_quotation_frames_nothing(
    rules: FramingRules, text: str
) -> None:
    assert _authors(text, rules) == [None, None]


def test_a_question_and_answer_interview_gives_answers_to_the_interviewee(
    rules: FramingRules,
) -> None:
    text = (
        "Our third interview is with Henderson, Nevada's Brad Lord-Leutwyler, a professor.\n"
        "Why do you want to be President?\n"
        "I do not want to be the President.\n"
        "Have you ever run for office before?\n"
        "I am not a member of a party now."
    )
    assert _authors(text, rules) == [
        None,
        None,
        "Brad Lord-Leutwyler",
        None,
        "Brad Lord-Leutwyler",
    ]
