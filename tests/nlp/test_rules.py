from __future__ import annotations

from monitor.nlp.rules import (
    ELECTION,
    ELECTION_BLOCK,
    ELECTION_WEAK,
    FOREIGN_MARKER,
    INTERFERENCE,
    INTERFERENCE_BLOCK,
    INTERFERENCE_CONTEXT,
    INTERFERENCE_TOPICAL,
    INTERFERENCE_WEAK,
    ArticleContext,
    Hit,
    _outermost,
    back_reference,
    continues_interference,
    decide_tags,
    election_evidence,
    has_election_context,
    interference_evidence,
    non_political_article,
)


def test_strong_election_cue_tags_alone() -> None:
    assert election_evidence([Hit(ELECTION, 0, 8)], False, 40) == [Hit(ELECTION, 0, 8)]


def test_weak_election_cue_needs_article_context() -> None:
    hits = [Hit(ELECTION_WEAK, 10, 16)]
    assert election_evidence(hits, False, 40) == []
    assert election_evidence(hits, True, 40) == hits


def test_block_term_near_the_cue_cancels_it_but_not_far_away() -> None:
    near = [Hit(ELECTION_BLOCK, 0, 4), Hit(ELECTION, 10, 18)]
    far = [Hit(ELECTION_BLOCK, 0, 4), Hit(ELECTION, 100, 108)]
    assert election_evidence(near, True, 40) == []
    assert election_evidence(far, True, 40) == [Hit(ELECTION, 100, 108)]
    assert not has_election_context(near, 40)
    assert has_election_context(far, 40)


def test_an_article_whose_strong_cues_are_mostly_blocked_is_not_political() -> None:
    conclave = [Hit(ELECTION_BLOCK, 0, 4), Hit(ELECTION, 10, 15), Hit(ELECTION, 20, 28)]
    far = Hit(ELECTION, 300, 309)  # "no candidate had won", far from "pope"
    assert non_political_article([*conclave, far], 40)
    assert non_political_article([conclave[0], conclave[1], far], 40)  # a tie blocks too
    assert not non_political_article([conclave[0], conclave[1], far, Hit(ELECTION, 400, 408)], 40)
    assert not non_political_article([Hit(ELECTION, 10, 15)], 40)  # no block term at all
    blocked = ArticleContext(True, False, 40, election_blocked=True)
    assert decide_tags([far], 0, blocked, "x" * 400) == ((), ())


def test_only_a_statement_referring_back_continues_an_interference_story() -> None:
    story = ArticleContext(election=False, interference=True, block_window=40)
    other = ArticleContext(election=True, interference=False, block_window=40)
    assert continues_interference((), story, refers_back=True)
    assert not continues_interference((), story, refers_back=False)
    # An election statement referring back is about both.
    assert continues_interference(("election",), story, refers_back=True)
    assert not continues_interference(("foreign_interference",), story, refers_back=True)
    assert not continues_interference((), other, refers_back=True)
    assert not continues_interference((), story, refers_back=True, shifts=True)


def test_a_back_reference_is_a_determiner_and_a_story_noun_or_an_opening_pronoun() -> None:
    pattern = back_reference(["actions", "operation"], ["they"])
    assert pattern.search("These hostile actions must stop.")
    assert pattern.search("The wider operation ran for years.")
    assert pattern.search("However, they started using ugly methods.")
    assert not pattern.search("Actions speak louder than words.")
    assert not pattern.search("We asked what they wanted.")  # "they" not opening


def test_weak_election_cue_inside_an_interference_phrase_is_not_election() -> None:
    hits = [Hit(INTERFERENCE, 0, 18), Hit(ELECTION_WEAK, 10, 18)]
    assert election_evidence(hits, True, 40) == []


def test_weak_interference_needs_foreign_context() -> None:
    weak = Hit(INTERFERENCE_WEAK, 5, 17)
    assert interference_evidence([weak], states=0) == []
    assert interference_evidence([weak], states=2) == [weak]
    assert interference_evidence([weak, Hit(FOREIGN_MARKER, 30, 37)], states=0) == [weak]
    assert interference_evidence([weak, Hit(ELECTION, 30, 38)], states=1) == [weak]


def test_in_an_interference_article_weak_cues_need_a_state_or_a_topical_word() -> None:
    generic = Hit(INTERFERENCE_WEAK, 5, 12)  # "funding"
    topical = [Hit(INTERFERENCE_WEAK, 5, 15), Hit(INTERFERENCE_TOPICAL, 5, 15)]  # "propaganda"
    assert interference_evidence([generic], states=0, article_context=True) == []
    assert interference_evidence([generic], states=1, article_context=True) == [generic]
    assert interference_evidence(topical, states=0, article_context=True) == [topical[0]]
    assert interference_evidence(topical, states=0, article_context=False) == []


def test_domestic_block_phrase_cancels_weak_cue() -> None:
    hits = [Hit(INTERFERENCE_BLOCK, 0, 23), Hit(INTERFERENCE_WEAK, 11, 23)]
    assert interference_evidence(hits, states=2) == []


def test_denials_count_only_in_an_interference_article() -> None:
    denial = Hit(INTERFERENCE_CONTEXT, 0, 6)
    assert interference_evidence([denial], states=0) == []
    assert interference_evidence([denial], states=0, article_context=True) == [denial]


def test_a_denial_of_an_election_claim_is_no_interference_denial() -> None:
    document = "The government has denied the fraud allegations. Fraud, they said."
    denial, fraud = Hit(INTERFERENCE_CONTEXT, 19, 25), Hit(ELECTION, 30, 35)

    def evidence(*hits: Hit) -> list[Hit]:
        return interference_evidence(hits, states=0, article_context=True, document=document)

    assert evidence(denial, fraud) == []
    # without the text, as before: the denial counts
    assert interference_evidence([denial, fraud], states=0, article_context=True) == [denial]
    # an election cue further on is no object of the denial
    assert evidence(denial, Hit(ELECTION, 50, 55)) == [denial]
    # a denial of meddling in the vote is still one
    meddling = Hit(INTERFERENCE, 26, 34)
    assert evidence(denial, meddling) == [denial, meddling]
    # "fabricated opinion polls": no determiner, so no denied claim
    made_up = "It fabricated opinion polls."
    cue, polls = Hit(INTERFERENCE_CONTEXT, 3, 13), Hit(ELECTION, 14, 27)
    assert interference_evidence(
        [cue, polls], states=0, article_context=True, document=made_up
    ) == [cue]


def test_decide_tags_reports_evidence_text() -> None:
    document = "Russia denied meddling in the election."
    hits = [Hit(INTERFERENCE, 14, 22), Hit(ELECTION, 30, 38)]
    context = ArticleContext(election=True, interference=True, block_window=40)
    tags, evidence = decide_tags(hits, 1, context, document)
    assert tags == ("election", "foreign_interference")
    assert [(e.tag, e.text) for e in evidence] == [
        ("election", "election"),
        ("foreign_interference", "meddling"),
    ]


def test_a_home_state_is_no_foreign_actor() -> None:
    weak = Hit(INTERFERENCE_WEAK, 5, 17)
    election = Hit(ELECTION, 30, 38)
    denial = Hit(INTERFERENCE_CONTEXT, 40, 46)
    assert interference_evidence([weak, election], states=1, home=1) == []
    assert interference_evidence([weak, denial], states=1, home=1) == []
    assert interference_evidence([weak], states=1, article_context=True, home=1) == []
    assert interference_evidence([weak], states=2, home=2) == []
    assert interference_evidence([weak], states=2, home=1) == [weak]
    assert interference_evidence([weak, Hit(FOREIGN_MARKER, 50, 57)], states=1, home=1) == [weak]


def test_hits_of_two_kinds_on_one_span_are_one_evidence() -> None:
    hits = [Hit(ELECTION_WEAK, 30, 34), Hit(ELECTION, 30, 34)]
    assert election_evidence(hits, False, 40) == [Hit(ELECTION, 30, 34)]
    assert election_evidence(hits, True, 40) in ([hits[0]], [hits[1]])


def test_outermost_keeps_the_longest_hits_one_per_span_in_document_order() -> None:
    hits = [
        Hit(ELECTION, 20, 28),
        Hit(ELECTION_WEAK, 0, 8),
        Hit(ELECTION, 4, 8),  # inside 0-8
        Hit(ELECTION, 0, 8),  # same span as the weak cue: the last one given stays
        Hit(ELECTION, 22, 22),  # empty, inside 20-28
        Hit(ELECTION, 12, 14),
        Hit(ELECTION, 10, 12),  # touches 12-14 without covering it
        Hit(ELECTION, 20, 26),  # same start as 20-28, shorter
    ]
    assert _outermost(hits) == [
        Hit(ELECTION, 0, 8),
        Hit(ELECTION, 10, 12),
        Hit(ELECTION, 12, 14),
        Hit(ELECTION, 20, 28),
    ]
    assert _outermost([Hit(ELECTION, 5, 9)]) == [Hit(ELECTION, 5, 9)]
    assert _outermost([]) == []


def test_a_headline_whose_election_cues_are_all_blocked_makes_the_article_non_political() -> None:
    headline_vote = Hit(ELECTION, 12, 16)
    board = Hit(ELECTION_BLOCK, 30, 44)
    body_vote = Hit(ELECTION, 200, 204)
    body_ballot = Hit(ELECTION, 300, 306)
    hits = [headline_vote, board, body_vote, body_ballot]
    assert non_political_article(hits, 40, headline_end=50)
    assert not non_political_article(hits, 40)  # one blocked cue of three: political
