"""SpeakerMemory (monitor/nlp/memory.py): resolving attributions across an article."""

from __future__ import annotations

from monitor.nlp.memory import SpeakerMemory
from monitor.nlp.names import Attribution
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.tagger import Tagger


def _said(name: str, *, person: bool = False) -> Attribution:
    return Attribution(name, 0, len(name), person=person)


def test_a_surname_expands_to_the_full_name_first_written(speech: SpeechRules) -> None:
    memory = SpeakerMemory(speech)
    assert memory.resolve(_said("Maria Zakharova", person=True), [], 0) == "Maria Zakharova"
    assert memory.resolve(_said("Zakharova"), [], 0) == "Maria Zakharova"


def test_he_said_is_the_last_person_not_the_last_institution(speech: SpeechRules) -> None:
    memory = SpeakerMemory(speech)
    memory.resolve(_said("Dmitry Peskov", person=True), [], 0)
    memory.resolve(_said("Kremlin"), [], 0)
    assert memory.resolve(Attribution("he", 0, 2, pronoun="he"), [], 0) == "Dmitry Peskov"
    assert memory.resolve(Attribution("it", 0, 2, pronoun="it"), [], 0) == "Kremlin"


def test_she_said_with_no_person_before_is_the_titled_subject(speech: SpeechRules) -> None:
    memory = SpeakerMemory(speech)
    earlier = "Mayor Ana Ruiz beat Senator Tom Cole by 90 votes.\n“We won,” "
    she = Attribution("she", 0, 3, pronoun="she")
    assert memory.resolve(she, [], 0, earlier=earlier) == "Ana Ruiz"


def test_definite_descriptions_resolve_to_names_written_before(speech: SpeechRules) -> None:
    memory = SpeakerMemory(speech)
    court = Attribution("the court", 0, 9, role="court")
    assert memory.resolve(court, [], 0, earlier="Peru's Top Court ruled. ") == "Peru's Top Court"
    # No court named before: the description is the speaker, as written.
    assert memory.resolve(court, [], 0, earlier="A court ruled. ") == "the court"
    minister = Attribution("the minister", 0, 12, person=True, role="minister")
    earlier = "Foreign Minister Ana Lima spoke. "
    assert memory.resolve(minister, [], 0, earlier=earlier) == "Ana Lima"


def test_the_company_said_falls_back_to_the_last_speaker_that_was_no_person(
    speech: SpeechRules,
) -> None:
    memory = SpeakerMemory(speech)
    memory.resolve(_said("Orvale"), [], 0)
    company = Attribution("the company", 0, 11, role="company")
    ministry = Attribution("the ministry", 0, 12, role="ministry")
    assert memory.resolve(company, [], 0, earlier="Orvale said sorry. ") == "Orvale"
    assert memory.resolve(ministry, [], 0, earlier="Orvale said sorry. ") == "the ministry"


def test_a_name_after_the_is_no_person(speech: SpeechRules) -> None:
    memory = SpeakerMemory(speech)
    memory.resolve(_said("Daily Ledger"), [], 0, earlier="according to The ")
    assert memory.last_person is None and memory.organisations == ["Daily Ledger"]
    memory.resolve(_said("Ana Lima"), [], 0, earlier="said ")
    assert memory.last_person == "Ana Lima"


def test_a_description_resolves_to_the_name_in_apposition_after_its_noun(tagger: Tagger) -> None:
    text = (
        "An independent group says it has documented interference in 27 countries. "
        "The group, the non-profit German Marshall Fund, studies policy. "
        "The group said Russia meddled in the elections."
    )
    assert tagger.tag(text).statements[-1].speaker == "German Marshall Fund"


def test_it_said_after_a_described_speaker_is_given_a_name_is_that_name(tagger: Tagger) -> None:
    text = (
        "Report\n"
        "An independent group says it has documented Russian interference in 27 countries.\n"
        "The group, the non-profit German Marshall Fund, studies public policy.\n"
        "It said that Russia has been involved in disinformation campaigns.\n"
        "The party, which won, said nothing."
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1:4] == ["An independent group", None, "German Marshall Fund"]


def test_the_two_leaders_are_the_last_two_people_named_in_the_bodys_order(
    tagger: Tagger,
) -> None:
    text = (
        "Telephone conversation with President of Venezuela Nicolas Maduro\n"
        "Vladimir Putin had a telephone conversation with President Nicolas Maduro.\n"
        "Nicolas Maduro congratulated Vladimir Putin on his victory in the election. "
        "The two leaders confirmed their mutual interest in developing ties."
    )
    assert tagger.tag(text).statements[-1].speaker == "Vladimir Putin and Nicolas Maduro"


def test_both_sides_are_the_pair_and_a_name_only_in_the_title_comes_second(
    tagger: Tagger,
) -> None:
    text = (
        "Vladimir Putin had a telephone conversation with President Emmanuel Macron.\n"
        "Vladimir Putin pointed out that the accusations were groundless. "
        "Both sides expressed interest in a peaceful settlement."
    )
    assert tagger.tag(text).statements[-1].speaker == "Vladimir Putin and Emmanuel Macron"


def test_the_two_leaders_with_nobody_named_before_stay_as_written(tagger: Tagger) -> None:
    text = "Summit\nThe two leaders confirmed their interest in the election talks."
    assert tagger.tag(text).statements[-1].speaker == "The two leaders"
