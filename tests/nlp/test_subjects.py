"""The subject rule: who a sentence's main clause says made a statement."""

from __future__ import annotations

import pytest

from monitor.nlp.segment import quote_spans
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.subjects import subject_attribution
from monitor.nlp.tagger import Tagger


def _subject(sentence: str, speech: SpeechRules) -> str | None:
    found = subject_attribution(sentence, quote_spans(sentence), speech)
    return None if found is None else found.name


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Analysts say China's goal is to help the KMT win.", "Analysts"),
        ("During the campaign, opposition parties accused the ruling party.", "opposition parties"),
        ("On Friday morning, state television praised the poll.", "state television"),
        ("European Union election observers have questioned the results.",
         "European Union election observers"),
        ("But the leading opposition party, the National Union, said that it won.",
         "the National Union"),
        ("Luciano Joaquim, 47, a resident of Cazenga, said he believes the opposition won.",
         "Luciano Joaquim"),
        ("Both Odinga and President Kibaki's camps had each accused the other side.",
         "Both Odinga and President Kibaki's camps"),
        ("The opposition is calling for a recount.", "The opposition"),
        ("Malloch Brown referred to the government stopping election officers.",
         "Malloch Brown"),
        ("Vladimir Putin pointed out that it was unacceptable to make accusations.",
         "Vladimir Putin"),
        ("The opposition charged that the vote was rigged.", "The opposition"),
        ("According to the documents, Rajoelina won with Russian support.", "the documents"),
    ],
)  # fmt: skip
def test_the_subject_of_a_statement_verb_is_the_speaker(
    speech: SpeechRules, sentence: str, speaker: str
) -> None:
    assert _subject(sentence, speech) == speaker


@pytest.mark.parametrize(
    "sentence",
    [
        "UNITA has not said whether it will contest the results.",  # negated
        "President Kibaki has been declared the winner.",  # passive
        "Official results gave the party just over 24 percent.",  # no statement verb
        "The party called the meeting to order.",  # "called" without "for"/"on"
        "The soldier pointed at the map of the polling stations.",  # "pointed" without "out"
        "A grand jury has charged 13 Russian nationals with plotting to interfere.",  # an action
        "The minister referred the question to the commission.",  # "referred" without "to"
    ],
)
def test_no_speaker_without_an_active_statement_verb(speech: SpeechRules, sentence: str) -> None:
    assert _subject(sentence, speech) is None


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Opposition supporters, who said the vote was rigged, marched on.",
         "Opposition supporters"),
        ("Paris saw violence by demonstrators, who have blamed police.", "demonstrators"),
        ("The ministry, which denied the report, declined to comment.", "The ministry"),
        # A main-clause statement verb comes first.
        ("The mayor, who met voters, said the count was fair.", "The mayor"),
        ("The observers, who had arrived late, said the count was fair.", "The observers"),
    ],
)  # fmt: skip
def test_a_relative_clause_speaks_for_the_noun_before_it(
    speech: SpeechRules, sentence: str, speaker: str
) -> None:
    assert _subject(sentence, speech) == speaker


@pytest.mark.parametrize(
    "sentence",
    [
        "In 2020, which denied nothing, turnout rose.",  # a number is no speaker
        "He met them, who said nothing.",  # a pronoun
        "As reported by the correspondent, who said so, it rained.",  # a conduit
    ],
)
def test_a_relative_clause_after_no_speaker_names_nobody(
    speech: SpeechRules, sentence: str
) -> None:
    assert _subject(sentence, speech) is None


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("The measure was criticised by Republican lawmakers.", "Republican lawmakers"),
        ("The result was rejected by the opposition, which called it fraud.", "the opposition"),
        ("He was accused by prosecutors of election fraud.", "prosecutors"),
        # LABELING.md: a court's ruling is the court's statement.
        ("The claims were rejected by the court.", "the court"),
        ('Lukashenko has been referred to as "the last dictator," by Washington.', "Washington"),
        ("The vote was described as free and fair by observers from the OSCE.",
         "observers from the OSCE"),
        ("The plan was strongly condemned by the Ministry of Foreign Affairs.",
         "the Ministry of Foreign Affairs"),
    ],
)  # fmt: skip
def test_a_passive_statement_verb_is_its_agents(
    speech: SpeechRules, sentence: str, speaker: str
) -> None:
    assert _subject(sentence, speech) == speaker


@pytest.mark.parametrize(
    "sentence",
    [
        "The candidate was accused of fraud.",  # no agent
        "The law was passed by parliament on Monday.",  # no statement verb
        "The vote was denied, as the court found, by a narrow margin.",  # "by" past the clause
    ],
)
def test_a_passive_without_an_agent_names_nobody(speech: SpeechRules, sentence: str) -> None:
    assert _subject(sentence, speech) is None


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Previously, the Bush administration had defended its use, claiming it was vital.",
         "the Bush administration"),
        ("In Moscow, officials met on Monday, saying the vote was fair.", "officials"),
        ("The protesters marched through the city, chanting and saying the vote was stolen.",
         "The protesters"),
        ("The elected officials met the press and said the vote was fair.",
         "The elected officials"),
    ],
)  # fmt: skip
def test_a_participle_after_a_comma_is_the_main_clause_subjects(
    speech: SpeechRules, sentence: str, speaker: str
) -> None:
    assert _subject(sentence, speech) == speaker


def test_a_pronoun_subject_is_left_to_the_caller(speech: SpeechRules) -> None:
    found = subject_attribution("He appealed for calm.", [], speech)
    assert found is not None and found.pronoun == "he"


def test_a_description_carries_its_title_for_resolution(speech: SpeechRules) -> None:
    found = subject_attribution("The President congratulated the winners.", [], speech)
    assert found is not None and found.role == "president" and found.person


def test_a_main_clause_subject_beats_one_in_an_opening_clause(speech: SpeechRules) -> None:
    sentence = (
        "Hours before the electoral commission announced the lead, "
        "the People's Movement declared victory."
    )
    assert _subject(sentence, speech) == "the People's Movement"


def test_a_wire_quoting_someone_is_a_conduit(speech: SpeechRules) -> None:
    sentence = "Reuters quotes Foreign Minister Bernard Membe as saying the vote was rigged."
    assert _subject(sentence, speech) == "Foreign Minister Bernard Membe"


def test_a_verb_after_a_quotation_names_the_speaker_after_it(speech: SpeechRules) -> None:
    sentence = "“I express solidarity,” began peace activist Antonio Mazzeo."
    assert _subject(sentence, speech) == "Antonio Mazzeo"


def test_an_attribution_in_an_opening_clause_is_not_the_main_one(tagger: Tagger) -> None:
    text = (
        "Results\n"
        "Hours before the electoral commission announced the lead, the People's Movement "
        "declared that it had won."
    )
    assert tagger.tag(text).statements[-1].speaker == "the People's Movement"


def test_a_verb_after_and_takes_the_subject_the_sentence_opens_with(speech: SpeechRules) -> None:
    sentence = "The third video uses the FBI seal and claims a company saw a rise."
    assert _subject(sentence, speech) == "The third video"


def test_a_name_before_its_title_in_an_unclosed_apposition(speech: SpeechRules) -> None:
    sentence = "Aparna Garg, the Divisional Railway Manager discussed the initiatives."
    assert _subject(sentence, speech) == "Aparna Garg"


def test_a_pronoun_in_a_relative_clause_is_the_sentence_subject(tagger: Tagger) -> None:
    text = (
        "Hearing\n"
        "The German Marshall Fund reported these claims.\n"
        "The Helsinki Commission met to discuss what it called the “scourge” of disinformation."
    )
    assert tagger.tag(text).statements[-1].speaker == "The Helsinki Commission"


def test_a_generic_description_is_the_last_person_a_specific_one_must_fit(tagger: Tagger) -> None:
    text = (
        "Doping\n"
        "Russian President Vladimir Putin announced the suspension of a minister.\n"
        "“The allegations are baseless,” the Russian leader said.\n"
        "The governor told reporters nothing."
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[2:] == ["Vladimir Putin", "The governor"]


def test_a_reporter_or_medium_is_a_conduit_not_a_speaker(speech: SpeechRules) -> None:
    assert _subject("VOA’s Igor Tsikhanenka discussed the topic with experts.", speech) is None
    assert _subject("The reporter asked about the vote.", speech) is None


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("But Antonio Mazzeo then wanted to sound an alarm: “This worries me.”", "Antonio Mazzeo"),
        ("Guards were deployed, following police reports alleging plans.", "police reports"),
        ("The video uses the seal and falsely states the FBI knew.", "The video"),
        ("After President Trump suggested a delay, critics objected loudly.", "critics"),
        ("After President Trump suggested a delay, mail was slow.", "President Trump"),
    ],
)  # fmt: skip
def test_more_shapes_of_real_copy(speech: SpeechRules, sentence: str, speaker: str) -> None:
    assert _subject(sentence, speech) == speaker
