from __future__ import annotations

import json
import random

import pytest

from bench.bench_nlp import build_corpus
from monitor.errors import ConfigError, PoisonError
from monitor.nlp.result import TagResult
from monitor.nlp.settings import NlpSettings
from monitor.nlp.tagger import BinaryText, Tagger
from tests.nlp.conftest import CONFIG_DIR, FIXTURES, read_fixture


def _by_start(result: TagResult, document: str, words: str) -> tuple[tuple[str, ...], str | None]:
    statement = next(s for s in result.statements if words in s.text)
    assert document[statement.start : statement.end] == statement.text
    return statement.tags, statement.speaker


def test_interference_article_with_denial_quotes_and_boilerplate(tagger: Tagger) -> None:
    text = read_fixture("interference-denial.txt")
    result = tagger.tag(text)
    assert _by_start(result, text, "Beijing Rejects") == (
        ("election", "foreign_interference"),
        "Beijing",
    )
    # "They target young voters": the minister describes the operation itself.
    assert _by_start(result, text, "clear evidence") == (
        ("election", "foreign_interference"),
        "Chen Wei-lin",
    )
    # No cue, but "400 accounts" refers back to the network of fake accounts.
    assert _by_start(result, text, "Chen said more") == (("foreign_interference",), "Chen Wei-lin")
    assert _by_start(result, text, "dismissed the accusations") == (
        ("foreign_interference",),
        "Hua Chunying",
    )
    assert _by_start(result, text, "never interferes") == (
        ("foreign_interference",),
        "Hua Chunying",
    )
    stripped = [text[b.start : b.end] for b in result.boilerplate]
    assert stripped == [
        "Sign up for our daily newsletter\nRead more: How Taiwan fights disinformation\n"
        "Share this article"
    ]
    assert not any("disinformation" in s.text for s in result.statements)


def test_multi_sentence_quote_is_one_statement_with_quote(tagger: Tagger) -> None:
    text = read_fixture("interference-denial.txt")
    statement = next(s for s in tagger.tag(text).statements if "clear evidence" in s.text)
    assert "young voters" in statement.text
    assert statement.quote is not None and statement.quote.endswith("young voters in particular")


def test_club_election_and_referee_interference_are_not_tagged(tagger: Tagger) -> None:
    text = read_fixture("club-election.txt")
    result = tagger.tag(text)
    assert all(s.tags == () for s in result.statements)
    assert _by_start(result, text, "united again")[1] == "Marco Bellini"


def test_irrelevant_article_still_yields_every_sentence(tagger: Tagger) -> None:
    text = read_fixture("no-cue.txt")
    result = tagger.tag(text)
    assert len(result.statements) == 5
    assert all(s.tags == () for s in result.statements)
    assert _by_start(result, text, "never seen water")[1] == "Anna Novak"


def _labelled(name: str) -> list[str]:
    """Every line of a labelled set on its own, then each document as an article
    (one paragraph per line, as the evaluation reads it)."""
    rows = [json.loads(line) for line in (FIXTURES / name).read_text("utf-8").splitlines()]
    documents: dict[str, list[str]] = {}
    for row in rows:
        documents.setdefault(row["doc"], []).append(row["text"])
    return [row["text"] for row in rows] + ["\n".join(lines) for lines in documents.values()]


#: Lines that exercise the fast path's edges: donation appeals (boilerplate
#: found by the appeal test), cue-free lines ending in a gazetteer name (their
#: entities come from the gazetteer index), quotes and attributions.
_EDGE_LINES = (
    "Your donation keeps this newsletter free: please contribute what you can",
    "Become a member today and support us with a monthly contribution if you can",
    "Readers like you make our independent journalism possible, so please donate",
    "“Please donate to the flood appeal,” the charity said, thanking its subscribers.",
    "The delegation later flew on to Moscow",
    "Talks continued in Brussels with the European Union",
    "Ticket sales rose in Kyiv, Warsaw and Berlin",
    "Dmitry Peskov, the Kremlin spokesman, said the weather was fine.",
    "He said the talks would go on. “We are patient,” he added.",
    "Kremlin Tells Georgian Opposition to ‘Accept Defeat’",
)


def _mixed_lines(count: int, seed: int) -> list[str]:
    """Articles whose lines mix labelled sentences, neutral ones and ``_EDGE_LINES``."""
    labelled = [json.loads(line)["text"] for line in read_fixture("devset.jsonl").splitlines()]
    neutral = [
        line
        for line in read_fixture("bench-neutral.txt").splitlines()
        if line and not line.startswith("#")
    ]
    rng = random.Random(seed)
    articles = []
    for _ in range(count):
        lines = [rng.choice(neutral + labelled)]
        for _ in range(rng.randint(1, 9)):
            pool = rng.choice((neutral, neutral, labelled, _EDGE_LINES))
            lines.append(" ".join(rng.sample(pool, rng.randint(1, 2))))
        articles.append("\n".join(lines))
    return articles


def _prefilter_corpora() -> dict[str, list[str]]:
    fixtures = [read_fixture(name) for name in ("no-cue.txt", "club-election.txt")]
    return {
        "fixtures": [*fixtures, read_fixture("interference-denial.txt")],
        "devset": _labelled("devset.jsonl"),
        "heldout": _labelled("heldout.jsonl"),
        "challenge": _labelled("challenge.jsonl"),
        "challenge2": _labelled("challenge2.jsonl"),
        "challenge3": _labelled("challenge3.jsonl"),
        "challenge4": _labelled("challenge4.jsonl"),
        "challenge5": _labelled("challenge5.jsonl"),
        "challenge6": _labelled("challenge6.jsonl"),
        # The benchmark's corpora: one relevant article in ten, and all relevant.
        "bench mix": build_corpus(300, 10, seed=4),
        "bench dense": build_corpus(30, 1, seed=5),
        "mixed lines": _mixed_lines(300, seed=6),
    }


@pytest.fixture(scope="module")
def unfiltered() -> Tagger:
    """The full path: spaCy reads every article, every line of it."""
    return Tagger.from_settings(NlpSettings(prefilter=False), CONFIG_DIR)


@pytest.mark.parametrize(("name", "texts"), list(_prefilter_corpora().items()))
def test_prefilter_does_not_change_results(
    tagger: Tagger, unfiltered: Tagger, name: str, texts: list[str]
) -> None:
    """The fast path (prefilter, line blanking, one lowercase scan, entities from
    offsets, the JSON writer) gives the full path's results, JSON and all."""
    fast = list(tagger.tag_many(texts))
    assert len(fast) == len(texts)
    for text, result, full in zip(texts, fast, unfiltered.tag_many(texts), strict=True):
        assert result == full, text  # statements with their entities, entities, boilerplate
        line = result.to_json_text(name)
        assert line == full.to_json_text(name), text
        assert line == json.dumps({"id": name, **full.to_json()}, ensure_ascii=False), text


def test_statement_entities_and_evidence_index_the_document(tagger: Tagger) -> None:
    text = "Moscow accused Washington of meddling in Moldova's election."
    result = tagger.tag(text)
    (statement,) = result.statements
    assert [(e.text, e.label) for e in statement.entities] == [
        ("Moscow", "GPE"),
        ("Washington", "GPE"),
        ("Moldova", "GPE"),
    ]
    for evidence in statement.evidence:
        assert text[evidence.start : evidence.end] == evidence.text
    assert statement.tags == ("election", "foreign_interference")


def test_a_state_denying_interference_is_an_interference_statement(tagger: Tagger) -> None:
    (statement,) = tagger.tag("The Kremlin denied any interference.").statements
    assert statement.tags == ("foreign_interference",)
    (statement,) = tagger.tag("The court denied any interference by the minister.").statements
    assert statement.tags == ()


def _speakers(tagger: Tagger, text: str) -> list[str | None]:
    return [s.speaker for s in tagger.tag(text).statements]


def _tags(tagger: Tagger, text: str) -> list[tuple[str, ...]]:
    return [s.tags for s in tagger.tag(text).statements]


def test_definite_description_resolves_to_the_titled_name(tagger: Tagger) -> None:
    text = (
        "Lavrov in Minsk\n"
        "Foreign Minister Sergei Lavrov met his counterpart on Monday.\n"
        "“We reject outside interference,” the foreign minister said.\n"
        "The governor told reporters nothing."
    )
    speakers = _speakers(tagger, text)
    # A governor was never named: the description is the speaker, as written.
    assert speakers == [None, None, "Sergei Lavrov", "The governor"]


@pytest.mark.parametrize(
    "introduction",
    [
        "Russia's foreign minister, Sergei Lavrov, spoke in Minsk.",
        "Sergei Lavrov, Russia's foreign minister, spoke in Minsk.",
    ],
)
def test_definite_description_resolves_to_a_name_in_apposition(
    tagger: Tagger, introduction: str
) -> None:
    text = f"Talks\n{introduction}\nThe minister added that Moscow would not recognise the result."
    speakers = _speakers(tagger, text)
    assert speakers[-1] == "Sergei Lavrov"


def test_the_court_said_resolves_to_the_court_named_before(tagger: Tagger) -> None:
    text = (
        "Ruling\n"
        "Peru's Constitutional Tribunal upheld the ban on Tuesday.\n"
        "The Supreme Court of Liberia heard a separate appeal.\n"
        "The ban stands, the tribunal said.\n"
        "The appeal failed, the court said.\n"
        "Nothing changes, the council said."
    )
    speakers = _speakers(tagger, text)
    assert speakers[3:] == [
        "Peru's Constitutional Tribunal",
        "Supreme Court of Liberia",
        "the council",  # no council named before: as written
    ]
    (alone,) = tagger.tag("The ministry said Washington was meddling.").statements
    assert alone.speaker == "The ministry"  # no ministry was named: as written


def test_the_pollster_said_resolves_to_the_name_written_after_the_noun(tagger: Tagger) -> None:
    text = (
        "Poll\n"
        "The mayor leads by two points in a survey by pollster Civica Data.\n"
        "The lead is within the margin of error, the pollster said.\n"
        "The bank said rates would hold."
    )
    speakers = _speakers(tagger, text)
    assert speakers[2:] == ["Civica Data", "The bank"]


def test_no_sentence_of_a_conclave_story_is_an_election_statement(tagger: Tagger) -> None:
    text = (
        "Cardinals meet to elect a pope\n"
        "The cardinals opened the conclave to elect the next pope on Monday.\n"
        "No candidate won the two-thirds majority in the first ballot, the Vatican said."
    )
    assert _tags(tagger, text) == [(), (), ()]


def test_a_definite_description_may_refer_back_into_its_own_sentence(tagger: Tagger) -> None:
    text = (
        "Union vote\nMembers of the Harbour Pilots' Union re-elected their chair, the union said."
    )
    assert tagger.tag(text).statements[-1].speaker == "Harbour Pilots' Union"


def test_she_said_after_a_titled_subject_and_no_person_speaker(tagger: Tagger) -> None:
    text = (
        "Upset in the primary\n"
        "Councillor Rosa Delgado beat Senator Tom Whyte, according to The Daily Ledger.\n"
        "“We listened,” she told supporters."
    )
    speakers = _speakers(tagger, text)
    assert speakers[1:] == ["Daily Ledger", "Rosa Delgado"]  # a paper after "The": no person


def test_the_company_said_is_the_company_that_spoke_before(tagger: Tagger) -> None:
    text = (
        "Ad pulled\n"
        "“We got this wrong,” Orvale said in a statement.\n"
        "The company said the posters would come down.\n"
        "The ministry said nothing."
    )
    speakers = _speakers(tagger, text)
    assert speakers[1:] == ["Orvale", "Orvale", "The ministry"]


def test_a_statement_referring_back_continues_an_interference_story(tagger: Tagger) -> None:
    text = (
        "Expulsion\n"
        "Estonia expelled a Russian diplomat for funding a pro-Kremlin party.\n"
        "Russia's embassy said the decision was “deeply regrettable”.\n"
        "The diplomat arrived in Tallinn in 2021.\n"
        "Voters go to the polls in March, the election commission said.\n"
        "The ministry said the decision was final."
    )
    statements = tagger.tag(text).statements
    reaction, background, election, far = statements[2:]
    assert reaction.tags == ("foreign_interference",)  # "the decision": the expulsion
    assert [(e.tag, e.text) for e in reaction.evidence] == [
        ("foreign_interference", "the decision")
    ]
    assert background.tags == ()  # no reference back: background
    assert election.tags == ("election",)  # a statement about the election stays one
    # LABELING.md: standing in the story is not enough; the story was told
    # three sentences before, so "the decision" here is not resolved to it.
    assert far.tags == ()


def test_the_ministry_added_is_the_ministry_that_spoke_before(tagger: Tagger) -> None:
    text = (
        "Diplomat expelled\n"
        "The Czech foreign ministry said the diplomat had paid councillors.\n"
        "The payments went through a firm in Cyprus, the ministry added."
    )
    assert _speakers(tagger, text)[1:] == ["Czech foreign ministry", "Czech foreign ministry"]


def test_run_off_from_fields_is_no_election(tagger: Tagger) -> None:
    text = (
        "Floods in the west\n"
        "A landslide blocked the road for hours.\n"
        "Farmers warned that run-off from the fields could reach rivers."
    )
    assert _tags(tagger, text) == [(), (), ()]
    (runoff,) = tagger.tag("Run-offs will be held in 34 towns, after the election.").statements
    assert runoff.tags == ("election",)


def test_a_topic_shift_leaves_the_interference_story(tagger: Tagger) -> None:
    text = (
        "Spies\n"
        "The agency said a foreign government had tried to recruit political staff.\n"
        "Separately, the agency said it had seen a rise in corporate espionage."
    )
    assert _tags(tagger, text)[2] == ()


def test_the_union_said_takes_the_names_its_of_part_lists(tagger: Tagger) -> None:
    text = "Strike\nMembers of the Union of Rail, Sea and Road Workers voted, the union said."
    assert _speakers(tagger, text)[1] == "Union of Rail, Sea and Road Workers"


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("Prosecutors say Azerbaijan bribed three Belgian lawmakers.", ("foreign_interference",)),
        ("A Ghent builder bribed two local officials, prosecutors said.", ()),
        ("She promised to close the border if elected.", ("election",)),
        ("The academy elected 64 new fellows on Tuesday.", ()),
        ("The sheriff beat a better-funded US senator in the Republican primary.", ("election",)),
    ],
)
def test_senses_seen_in_blind_copy(tagger: Tagger, text: str, tags: tuple[str, ...]) -> None:
    assert _tags(tagger, text) == [tags]


def test_tag_many_keeps_order(tagger: Tagger) -> None:
    texts = ["Nothing here.", "Voters went to the polls.", "", "Russia denied meddling."]
    results = list(tagger.tag_many(texts))
    assert [tuple(t for s in r.statements for t in s.tags) for r in results] == [
        (),
        ("election",),
        (),
        ("foreign_interference",),
    ]


def test_empty_and_blank_text_give_empty_results(tagger: Tagger) -> None:
    assert tagger.tag("") == TagResult(language="en")
    assert tagger.tag("\n \n\t") == TagResult(language="en")


def test_binary_junk_is_a_poison_error_with_one_line(tagger: Tagger) -> None:
    with pytest.raises(BinaryText) as caught:
        tagger.tag("PK\x03\x04\x00\x00binary")
    assert isinstance(caught.value, PoisonError)
    assert "\n" not in str(caught.value)


def test_five_megabyte_article_is_tagged_to_the_end(tagger: Tagger) -> None:
    """Default settings (max_chars=200_000): the article is tagged in pieces, not cut."""
    filler = "Farmers moved their cattle to higher ground after days of rain, " * 6
    paragraph = filler.rstrip(", ") + ".\n"
    cue = "Russia interfered in Moldova's vote, the European Union said.\n"
    count = 5_000_000 // len(paragraph) + 2
    body = paragraph * (count // 2) + cue + paragraph * (count // 2) + cue
    text = "Floods Hit The North\n" + body
    assert len(text) > 5_000_000
    result = tagger.tag(text)
    assert len(result.statements) == 1 + count // 2 * 2 + 2
    assert all(text[s.start : s.end] == s.text for s in result.statements[:: count // 7])
    tagged = [s for s in result.statements if s.tags]
    assert [(s.text, s.tags) for s in tagged] == [
        (cue.strip(), ("election", "foreign_interference"))
    ] * 2
    assert tagged[-1].end == len(text) - 1
    assert all(text[e.start : e.end] == e.text for s in tagged for e in s.evidence)


def test_non_english_text_gives_untagged_statements(tagger: Tagger) -> None:
    result = tagger.tag("Выборы прошли спокойно. 选举结果已经公布。")
    assert result.statements
    assert all(s.tags == () for s in result.statements)


def test_missing_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"nlp\.model"):
        Tagger.from_settings(NlpSettings(model="no_such_pipeline_xyz"), CONFIG_DIR)


def test_interference_aimed_at_a_named_state_is_foreign(tagger: Tagger) -> None:
    (statement,) = tagger.tag("Musk's interference in German politics drew a rebuke.").statements
    assert statement.tags == ("foreign_interference",)
    (statement,) = tagger.tag("Interference with the German courts worries judges.").statements
    assert statement.tags == ()


def test_tag_many_yields_results_before_a_binary_text(tagger: Tagger) -> None:
    results = tagger.tag_many(["Voters went to the polls.", "bad\x00text", "Never reached."])
    assert next(results).statements[0].tags == ("election",)
    with pytest.raises(BinaryText):
        next(results)


@pytest.mark.parametrize(
    "text",
    [
        "The ruling party spread disinformation ahead of Kenya's election",
        "Hungarian opposition says state media propaganda skewed the election",
        "India's election commission removed fake accounts and deepfakes",
        "Elections in Kenya and Uganda were marred by false stories.",
    ],
)
def test_domestic_disinformation_is_election_not_interference(tagger: Tagger, text: str) -> None:
    (statement,) = tagger.tag(text).statements
    assert statement.tags == ("election",)


@pytest.mark.parametrize(
    "text",
    [
        "Beijing warned against any interference in the vote.",
        "Russia interfered in Moldova's vote",
        "Russian hackers tried to sway Kenya's election.",
        "Moldova's election commission said Russia funded the opposition.",
    ],
)
def test_interfering_in_a_vote_is_election_and_interference(tagger: Tagger, text: str) -> None:
    (statement,) = tagger.tag(text).statements
    assert statement.tags == ("election", "foreign_interference")


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        # A cue word inside a name: the "Fund" of the IMF, the "Foreign" of a ministry.
        ("The International Monetary Fund cut its forecast for Brazil, citing external risks.", ()),
        ("The Foreign Ministry announced new funding for schools in the north.", ()),
        # Money and markets; an inauguration alone is a ceremony.
        (
            "A lawmaker under investigation for stock manipulation attended the "
            "president's inauguration in Seoul.",
            (),
        ),
        ("The president was inaugurated in January after winning the runoff.", ("election",)),
        # The bodies that police a state's own elections are no foreign actors.
        (
            "The Justice Department is investigating the plot to subvert the 2020 election.",
            ("election",),
        ),
        (
            "Russia tried to subvert the 2020 election, the FBI said.",
            ("election", "foreign_interference"),
        ),
    ],
)
def test_senses_seen_in_real_news_copy(tagger: Tagger, text: str, tags: tuple[str, ...]) -> None:
    assert _tags(tagger, text) == [tags]


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        (
            "The fake videos were made by local party workers, not from abroad, "
            "ahead of Kenya's election.",
            ("election",),
        ),
        (
            "The fake videos were made abroad, not by local party workers, "
            "ahead of Kenya's election.",
            ("election", "foreign_interference"),
        ),
    ],
)
def test_a_denied_foreign_marker_is_no_marker(
    tagger: Tagger, text: str, tags: tuple[str, ...]
) -> None:
    assert _tags(tagger, text) == [tags]


def test_a_sentence_referring_back_takes_the_states_it_refers_to(tagger: Tagger) -> None:
    text = (
        "Moldova holds firm\n"
        "Moldova has faced sustained hybrid threats originating from Russia.\n"
        "These have included disinformation campaigns and attempts to undermine its elections."
    )
    assert "foreign_interference" in tagger.tag(text).statements[-1].tags


def test_a_weak_cue_inside_a_capitalised_name_is_no_cue(tagger: Tagger) -> None:
    text = (
        "Hearing on Russia\n"
        "Russia ran disinformation campaigns abroad, an independent group says.\n"
        "The group, the non-profit German Marshall Fund, studies public policy."
    )
    assert tagger.tag(text).statements[-1].tags == ()


def test_a_sentence_referring_back_carries_an_election_story(tagger: Tagger) -> None:
    text = (
        "Tribunal upholds vote\n"
        "A tribunal upheld the president's election victory on Monday.\n"
        "The petitioners said they would appeal the ruling.\n"
        "The weather in the capital was mild."
    )
    tags = [s.tags for s in tagger.tag(text).statements]
    assert tags[2] == ("election",)  # "the ruling" refers back to the vote's ruling
    assert tags[3] == ()


@pytest.mark.parametrize(
    "sentence",
    [
        "Analysts say China's goal is to help the KMT win the January elections.",
        "Analysts say Beijing's goal is to help the main opposition party, the China-friendly "
        "Kuomintang or KMT, win the election.",
        "Russia targeted U.S. voters on social media, the report says.",
        "The Chinese government pays Taiwanese media outlets for pro-Beijing reports.",
        "Officials say Russia and Iran are stepping up efforts to sow distrust before the vote.",
        "Efforts by Russia to divide Americans and sow growing distrust in the election began.",
    ],
)
def test_pattern_cues_need_a_foreign_actor_like_any_weak_cue(tagger: Tagger, sentence: str) -> None:
    assert "foreign_interference" in tagger.tag(f"Report\n{sentence}").statements[1].tags


def test_pattern_cues_without_a_foreign_actor_tag_nothing(tagger: Tagger) -> None:
    text = (
        "Club news\nThe coach paid local journalists a visit and helped the team win the cup. "
        "The defeat could sow doubts in the squad."
    )
    assert all(not s.tags for s in tagger.tag(text).statements)


def test_a_story_told_only_with_the_sentence_before_is_still_carried(tagger: Tagger) -> None:
    # No sentence alone makes this an interference article: the second takes
    # Russia from the first; the third refers back to it.
    text = (
        "Moldova\n"
        "Moldova has shown resilience in the face of threats from Russia. "
        "These have included disinformation campaigns and attempts to undermine the "
        "integrity of Moldova's electoral processes. "
        "Despite these pressures, Moldova has safeguarded its institutions. "
        "The weather was mild."
    )
    tags = [s.tags for s in tagger.tag(text).statements]
    assert tags[2:] == [("election", "foreign_interference"), ("foreign_interference",), ()]


def test_a_pointer_to_more_reading_takes_no_topic_from_the_story(tagger: Tagger) -> None:
    text = (
        "Sanctions\n"
        "The United States designated members of a Russian group plotting to destabilize "
        "Moldova's government through influence campaigns. "
        "For more information about these designations, please see the press release."
    )
    tags = [s.tags for s in tagger.tag(text).statements]
    assert "foreign_interference" in tags[1] and tags[2] == ()


def test_a_sentence_opened_by_this_carries_an_election_story(tagger: Tagger) -> None:
    text = (
        "Sham vote\n"
        "Russia is holding its presidential election in occupied regions of Ukraine.\n"
        "This is another blatant attempt to apply a veneer of legitimacy."
    )
    statement = tagger.tag(text).statements[-1]
    assert "election" in statement.tags
    assert [e.text for e in statement.evidence if e.tag == "election"] == ["This"]


def test_electors_are_an_election_cue(tagger: Tagger) -> None:
    text = "Fake video\nThe video claims at least 301 electors reported attempted bribery."
    assert "election" in tagger.tag(text).statements[-1].tags


def test_new_words_are_not_kept_after_an_article(monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon reads new names and numbers forever: spaCy's vocabulary must not
    keep them (the chunk feeder's bounded cache aside, switched off here)."""
    from monitor.nlp.pipeline import ChunkFeeder

    monkeypatch.setattr(ChunkFeeder, "feed", lambda self, text: None)
    tagger = Tagger.from_settings(NlpSettings(), CONFIG_DIR)
    article = "Vote\nCandidate Zorblat{n} said the election of Quux{n} was rigged, {n}th claim.\n"
    tagger.tag(article.format(n=0))
    before = len(tagger._nlp.vocab.strings)
    results = [tagger.tag(article.format(n=n)) for n in range(1, 201)]
    assert len(tagger._nlp.vocab.strings) - before < 20  # not ~3 new strings per article
    assert all("election" in r.statements[1].tags for r in results)
    assert results[-1].statements[1].speaker == "Zorblat200"


def test_charging_someone_is_an_action_and_charging_that_a_statement(tagger: Tagger) -> None:
    # LABELING.md: "Actions are not statements: imposing sanctions, charging …"
    text = (
        "Indictment\n"
        "A federal grand jury has charged 13 Russian nationals with plotting to interfere "
        "in the election.\n"
        "Jane Roe charged that the vote was rigged."
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1:] == [None, "Jane Roe"]


def test_data_after_according_to_is_no_speaker(tagger: Tagger) -> None:
    # LABELING.md: "Data are not speakers (tallies, official results)".
    text = (
        "Results\n"
        "According to the official figures, Mr. Kabila won 58 percent of the vote.\n"
        "According to the documents, the party won with foreign support.\n"
        "Inflation stood at 23 percent, according to the National Bureau of Statistics."
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1:] == [None, "the documents", "National Bureau of Statistics"]


def test_a_title_before_an_institution_noun_is_part_of_its_name(tagger: Tagger) -> None:
    # "Justice" titles a judge ("Justice Qazi Faez Isa"), not "the Justice Department".
    text = (
        "Indictment\n"
        "The indictment, announced by the Justice Department, named 13 Russians.\n"
        "Justice Qazi Faez Isa said the court would meet."
    )
    speakers = [s.speaker for s in tagger.tag(text).statements]
    assert speakers[1:] == ["Justice Department", "Qazi Faez Isa"]
