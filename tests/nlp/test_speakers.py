from __future__ import annotations

import pytest

from monitor.nlp.names import Attribution
from monitor.nlp.segment import quote_spans
from monitor.nlp.speakers import find_attribution
from monitor.nlp.speech_rules import SpeechRules


def _speaker(sentence: str, speech: SpeechRules) -> Attribution | None:
    return find_attribution(sentence, quote_spans(sentence), speech)


def _speaker_name(sentence: str, speech: SpeechRules) -> str | None:
    found = _speaker(sentence, speech)
    return found.name if found else None


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Peskov said the vote was fair.", "Peskov"),
        ("The Kremlin on Tuesday said the opposition must accept defeat.", "Kremlin"),
        ("Kremlin Tells Georgian Opposition to ‘Accept Defeat’", "Kremlin"),
        ("“We see it,” Kremlin spokesman Dmitry Peskov told reporters.", "Dmitry Peskov"),
        ("“No,” said Russian Foreign Minister Sergei Lavrov.", "Sergei Lavrov"),
        ("Dmitry Peskov, the Kremlin spokesman, said it was fine.", "Dmitry Peskov"),
        ("A Kremlin spokesman said nothing more.", "Kremlin"),
        ("Observers from the OSCE said the count was slow.", "OSCE"),
        ("Billionaire Bidzina Ivanishvili thanked voters.", "Bidzina Ivanishvili"),
        (
            "Moldova’s intelligence service said Russia paid voters.",
            "Moldova’s intelligence service",
        ),
        ("According to Secretary of State Antony Blinken, the vote was flawed.", "Antony Blinken"),
        ("According to the Swedish security service, the plot failed.", "Swedish security service"),
        ("The Chinese embassy in London said in a statement that it objected.", "Chinese embassy"),
        (
            "The head of the commission, Jean Mensah, told a news conference it went well.",
            "Jean Mensah",
        ),
        (
            "Foreign Minister Jean-Noel Barrot called it a campaign of interference.",
            "Jean-Noel Barrot",
        ),
        # Institutions whose "of" part lists names (found in real agency copy).
        (
            "The Ministry of Health and Welfare said on Friday that clinics would reopen.",
            "Ministry of Health and Welfare",
        ),
        (
            "The Ministry of Trade, Industry and Energy said exports rose.",
            "Ministry of Trade, Industry and Energy",
        ),
        (
            "According to the Department of Health and Human Services, 40 people, 12 of them "
            "children, were treated.",
            "Department of Health and Human Services",
        ),
        # No sentence's full stop or plural possessive mark in the name.
        ("According to the FSS' findings, two banks broke the rules.", "FSS"),
        ("Belarusian authorities said the count was over.", "Belarusian authorities"),
        ("NATO agencies said the jamming came from the east.", "NATO agencies"),
        ("The sides will meet again, according to Cho's ministry.", "Cho's ministry"),
    ],
)
def test_named_speakers(sentence: str, speaker: str, speech: SpeechRules) -> None:
    found = _speaker(sentence, speech)
    assert found is not None and found.name == speaker
    assert sentence[found.start : found.end] == speaker


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("The vote was rigged, according to Western leaders.", "Western leaders"),
        ("The vote was rigged, according to U.S. officials.", "U.S. officials"),
        ("The vote was rigged, said OSCE observers on Monday.", "OSCE observers"),
        # A title with a name after it: the person, not the institution.
        ("The vote was rigged, said Kremlin spokesman Dmitry Peskov.", "Dmitry Peskov"),
        ("The vote was rigged, said a Kremlin spokesman.", "Kremlin spokesman"),
    ],
)  # fmt: skip
def test_a_name_and_a_group_after_it_are_one_source(
    sentence: str, speaker: str, speech: SpeechRules
) -> None:
    assert _speaker_name(sentence, speech) == speaker


@pytest.mark.parametrize(
    "sentence",
    [
        "Analysts said the result was expected.",
        "Officials in Berlin said the network was shut down.",
        "Beijing was accused of funding candidates.",
        "Moscow backs Maduro and Putin congratulated him on his victory.",
        "“I told them so,” went the refrain.",
        "Chileans rejected the proposal in a referendum.",
        # The owner of an unnamed speaker is not the speaker.
        "Output rose by a fifth, according to Brazil's biggest carmaker.",
        # A day or a company suffix is not a name.
        "The mayor, speaking at a briefing, Tuesday, said the park would open.",
        "Hanwha Chem Inc. said profits doubled.",
        # A common noun capitalised by its place before a plural institution.
        "Relief agencies said more tents were needed.",
        "Tax authorities said the audit was routine.",
    ],
)
def test_no_speaker(sentence: str, speech: SpeechRules) -> None:
    assert _speaker(sentence, speech) is None


def test_pronoun_is_left_for_the_caller(speech: SpeechRules) -> None:
    found = _speaker("“It is important,” he said.", speech)
    assert found is not None and found.pronoun == "he"


def test_verbs_inside_quotes_are_ignored(speech: SpeechRules) -> None:
    found = _speaker("“Maduro said he won,” Machado told reporters.", speech)
    assert found is not None and found.name == "Machado"


def test_definite_description_is_left_for_the_caller(speech: SpeechRules) -> None:
    found = _speaker("“No,” the foreign minister said.", speech)
    assert found is not None and found.role == "minister" and found.person
    found = _speaker("The governor told reporters nothing.", speech)
    assert found is not None and found.role == "governor"


@pytest.mark.parametrize(
    "sentence",
    [
        "Sergei Lavrov, Russia's foreign minister, said the vote was rigged.",
        "Sergei Lavrov, the foreign minister, said the vote was rigged.",
    ],
)
def test_an_apposition_after_the_name_keeps_the_name(sentence: str, speech: SpeechRules) -> None:
    found = _speaker(sentence, speech)
    assert found is not None and found.name == "Sergei Lavrov" and found.person


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Russia Accused Of Meddling In Moldova Vote", None),
        ("Kremlin Blamed For Unrest After Poll", None),
        ("Moldova Accuses Russia Of Meddling In Vote", "Moldova"),
        ("Peskov said of the vote that it was fair.", "Peskov"),
    ],
)
def test_a_headline_passive_has_no_speaker(
    sentence: str, speaker: str | None, speech: SpeechRules
) -> None:
    assert _speaker_name(sentence, speech) == speaker


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        # An object verb reports speech when a quotation follows its object.
        ('Tbilisi called the report "pure fiction" on Monday.', "Tbilisi"),
        ("Chancellor Ines Wolff called the result “a warning” to her party.", "Ines Wolff"),
        ("The mayor called the storm damage severe.", None),
        # Appositions opened by "one" or "which", or by a lowercase title.
        ("Karim Diallo, one of the rejected candidates, said he would appeal.", "Karim Diallo"),
        ("The Green Union, which finished third, said it would join no coalition.", "Green Union"),
        ("Her main rival, retired judge Pedro Soto, conceded defeat.", "Pedro Soto"),
        # An acronym in brackets between the name and the verb.
        ("The National Reform Party (NRP) said it would appeal.", "National Reform Party"),
    ],
)
def test_more_attribution_shapes(sentence: str, speaker: str | None, speech: SpeechRules) -> None:
    assert _speaker_name(sentence, speech) == speaker


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        # A subject's lowercase title introducing the name after it.
        (
            "Leeds United head coach Ana Ruiz declined to comment, saying only that they lost.",
            "Ana Ruiz",
        ),
        # "… and said": the sentence's subject.
        ("Governor Paul Otieno voted early and said turnout looked strong.", "Paul Otieno"),
        ("Police arrested three men and said they had bought votes.", None),
        ("The opposition leader Ana Lima refused to concede and alleged fraud.", "Ana Lima"),
        # A description of lowercase words before the name after "according to".
        ("The party leads, according to public broadcaster RTV.", "RTV"),
        ("The option leads, according to the electoral service Servel.", "Servel"),
        # A title with an "of" part that leaves one word names an office.
        (
            "The Director of Public Prosecutions said no charges would follow.",
            "Director of Public Prosecutions",
        ),
        (
            "President of Brazil Luiz Inacio Lula da Silva said the vote was fair.",
            "Luiz Inacio Lula da Silva",
        ),
        # A place in apposition to a place is no speaker; a participle opens an apposition.
        ("A recount in Kent County, Delaware, has confirmed the result.", None),
        ("The new MP, Helen Oduya, told supporters she was proud.", "Helen Oduya"),
        ("Fontana, speaking to TV Globo, said she would seek support.", "Fontana"),
        # A title and a comma before the name after the verb.
        ('"No comment," said his lawyer, Henrik Lund.', "Henrik Lund"),
    ],
)
def test_subjects_descriptions_and_offices(
    sentence: str, speaker: str | None, speech: SpeechRules
) -> None:
    assert _speaker_name(sentence, speech) == speaker


def test_an_institution_noun_after_the_is_left_for_the_caller(speech: SpeechRules) -> None:
    found = _speaker("The result stands, the court said.", speech)
    assert found is not None and found.role == "court" and not found.person
    found = _speaker("The ministry said Washington was meddling.", speech)
    assert found is not None and found.role == "ministry"
    assert _speaker("The police said two men were held.", speech) is None  # nobody in particular


def test_titles_mark_a_person(speech: SpeechRules) -> None:
    found = _speaker("President Gabriel Boric said he would listen.", speech)
    assert found is not None and found.person and found.name == "Gabriel Boric"


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Lavrov and Peskov said the talks had failed.", "Peskov"),
        ("Officials from Kenya, Uganda and Tanzania said the border would stay open.", "Tanzania"),
    ],
)
def test_a_list_of_names_without_of_is_not_joined(
    sentence: str, speaker: str | None, speech: SpeechRules
) -> None:
    assert _speaker_name(sentence, speech) == speaker


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("Georgia recalled its envoy, accusing Moscow of stoking unrest.", "Georgia"),
        (
            "Russian President Vladimir Putin signed the law, saying it protects voters.",
            "Vladimir Putin",
        ),
        (
            "Serbia's ruling party rejected the report, calling it foreign propaganda.",
            "Serbia's ruling party",
        ),
        # No name opens the sentence, or no verb follows it: nobody.
        ("The ambassador was summoned, accusing nobody.", None),
        ("He expelled the envoy, accusing Moscow.", None),
        ("Police arrested three men, saying they had bought votes.", None),
        ("Protests grew, with turnout falling, saying little.", None),
    ],
)
def test_a_participle_after_a_comma_reports_the_subject(
    sentence: str, speaker: str | None, speech: SpeechRules
) -> None:
    assert _speaker_name(sentence, speech) == speaker
