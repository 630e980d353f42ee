"""Gender words: who a "he" or "she" can stand for."""

from __future__ import annotations

from monitor.nlp.gender import FEMALE, MALE, GenderWords
from monitor.nlp.speech_rules import SpeechRules
from monitor.nlp.tagger import Tagger


def _words(speech: SpeechRules) -> GenderWords:
    assert speech.gender is not None
    return speech.gender


def test_a_title_right_before_a_name_tells_its_gender(speech: SpeechRules) -> None:
    assert _words(speech).title_gender("Later, Ms. ") == FEMALE
    assert _words(speech).title_gender("the spokesman ") == MALE
    assert _words(speech).title_gender("the minister ") is None


def test_the_last_gendered_or_named_mention(speech: SpeechRules) -> None:
    earlier = "Cohen's mother, Ruth, voted. A lawyer named Samantha helped."
    assert _words(speech).last_mention(earlier, FEMALE) == (earlier.index("Samantha"), "Samantha")
    assert _words(speech).last_mention("His father, Tom, voted.", FEMALE) is None


def test_she_said_is_the_woman_named_since_the_last_speaker(tagger: Tagger) -> None:
    text = (
        "Long lines\n"
        "Ted Cohen says the crowds were huge.\n"
        '"It is promising," he said.\n'
        "Cohen's mother, Ruth, was surprised too.\n"
        '"I waited an hour," she said.\n'
        "She says voting usually takes minutes.\n"
        '"We are busy," he added.'
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1:] == ["Ted Cohen", "Ted Cohen", None, "Ruth", "Ruth", "Ted Cohen"]


def test_a_pronoun_skips_a_person_of_the_other_gender(tagger: Tagger) -> None:
    text = (
        "Charges fly\n"
        "Ms. Tymoshenko accused Viktor Yanukovich of preparing fraud.\n"
        "He responded that only she could rig the vote."
    )
    assert tagger.tag(text).statements[-1].speaker == "Viktor Yanukovich"


def test_a_pronoun_may_stand_for_a_person_named_earlier_in_its_sentence(tagger: Tagger) -> None:
    text = (
        "Appointment\n"
        "President Trump chose me six months ago, and when that happened, he said "
        "he wanted better relations."
    )
    assert tagger.tag(text).statements[-1].speaker == "Trump"
