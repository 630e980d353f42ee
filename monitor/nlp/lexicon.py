"""Lexicons and rules of the tagger, loaded from YAML data in the config folder.

Four files live in the lexicon folder (``config/nlp`` by default):

``gazetteer.yaml``   countries (demonyms, capitals, seats of power), people,
                     organisations and regions, each tied to a country when known;
``cues.yaml``        election and foreign-interference cue terms with their
                     context rules;
``speech.yaml``      speech verbs, fillers, titles and pronouns for attribution;
``boilerplate.yaml`` rules that find donation appeals, newsletter boxes and the like.

Any problem raises :class:`~monitor.errors.ConfigError` naming file and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import ConfigError, ConfigProblem


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CountryEntry(_Frozen):
    """A state and the words that stand for it."""

    name: str
    aliases: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()
    #: Capitals and other cities used for the state (labelled GPE).
    places: tuple[str, ...] = ()
    #: Seats of power used for the government (labelled ORG): Kremlin, White House.
    seats: tuple[str, ...] = ()


class NamedEntry(_Frozen):
    """A person or organisation, optionally tied to a country."""

    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None


class Gazetteer(_Frozen):
    countries: tuple[CountryEntry, ...] = ()
    people: tuple[NamedEntry, ...] = ()
    organisations: tuple[NamedEntry, ...] = ()
    regions: tuple[str, ...] = ()


class BackReferences(_Frozen):
    """How a sentence refers back to a story told right before it
    (:func:`~monitor.nlp.rules.back_reference`); both tags' cues have them."""

    #: Head nouns of back-references ("the results", "these actions").
    references: tuple[str, ...] = ()
    #: Pronouns opening such a sentence ("This was a futile attempt …", "They …").
    reference_pronouns: tuple[str, ...] = ()
    #: A story noun opening a sentence refers back with no determiner
    #: (languages without articles: "Расследование продолжается").
    bare_references: bool = False
    #: Determiners of a back-reference ("these actions", "los esfuerzos").
    reference_determiners: tuple[str, ...] = (
        "these", "those", "such", "this", "the", "its", "their",
    )  # fmt: skip


class ElectionCues(BackReferences):
    """Election cues; ``weak`` ones count only in an article about an election."""

    strong: tuple[str, ...]
    weak: tuple[str, ...] = ()
    #: Non-political elections (club, pope, board) near a cue cancel it ...
    block: tuple[str, ...] = ()
    #: ... unless a political qualifier sits right next to the cue.
    political: tuple[str, ...] = ()
    block_window: int = Field(default=40, ge=0)
    #: Weak cues that an interference cue acting on them makes strong
    #: ("interference in the vote", "interfered in Moldova's vote").
    targets: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _targets_are_weak(self) -> ElectionCues:
        stray = sorted(set(self.targets) - set(self.weak))
        if stray:
            raise ValueError(f"targets must also be weak cues: {', '.join(stray)}")
        return self


class InterferenceCues(BackReferences):
    """Interference cues; ``weak`` ones need a foreign marker or two states."""

    strong: tuple[str, ...]
    weak: tuple[str, ...] = ()
    foreign_markers: tuple[str, ...] = ()
    #: Domestic or technical uses ("government interference", "pass interference").
    block: tuple[str, ...] = ()
    #: Denials and rebuttals; they count in an article already about interference.
    context: tuple[str, ...] = ()
    #: Weak cues that carry the topic on their own in an article already about
    #: interference ("propaganda", "plot"); generic ones ("funding") do not.
    topical: tuple[str, ...] = ()
    #: Words that make a state named right before them the country whose
    #: politics the sentence is about, not a foreign actor ("Kenya's election",
    #: "the Hungarian opposition"); ``home_before`` ones do it before "in <state>"
    #: ("the election in Kenya").
    home_after: tuple[str, ...] = ()
    home_before: tuple[str, ...] = ()
    #: Lowercase openings of a sentence that leaves the article's story
    #: ("separately"): it does not continue an interference story.
    topic_shifts: tuple[str, ...] = ()
    #: Regexes for weak cues no fixed phrase can write: "help the KMT win",
    #: "targeted U.S. voters"; they need a foreign marker or actor like any weak cue.
    weak_patterns: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _weak_patterns_compile(self) -> InterferenceCues:
        for pattern in self.weak_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"weak_patterns: invalid regex {pattern!r}: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _topical_are_weak(self) -> InterferenceCues:
        stray = sorted(set(self.topical) - set(self.weak))
        if stray:
            raise ValueError(f"topical cues must also be weak cues: {', '.join(stray)}")
        return self


class Cues(_Frozen):
    election: ElectionCues
    foreign_interference: InterferenceCues


class Framing(_Frozen):
    """How official documents frame their author (:mod:`monitor.nlp.framing`)."""

    #: Regexes with a group ``who``: statement and speech headers naming the author.
    headers: tuple[str, ...] = ()
    #: Regexes matching the first words of a speech ("Thank you, Mr Chair").
    openings: tuple[str, ...] = ()
    #: Regexes a lead-in line holds ("released the following statement").
    lead_ins: tuple[str, ...] = ()
    #: Labels before a colon that name no speaker ("Note", "Photo").
    not_speakers: tuple[str, ...] = ()
    #: Turn labels of an unnamed speaker ("QUESTION", "Q").
    anonymous_turns: tuple[str, ...] = ()
    #: How many lines from the top a header may sit on.
    header_lines: int = Field(default=6, ge=1)
    #: Regexes with a group ``who``: a speaker introducing themselves ("This is …").
    introductions: tuple[str, ...] = ()
    #: Regexes with a group ``who``: a headline whose subject is an institution;
    #: it frames the text when the text speaks as "we".
    institution_headers: tuple[str, ...] = ()
    #: Regexes with a group ``who`` matching a turn's label at a line's start,
    #: other than "Name:" (an interview template's images around the name).
    turn_labels: tuple[str, ...] = ()
    #: A regex a text must match for ``turn_labels`` to be tried (a cheap first test).
    turn_label_hint: str = ""
    #: Regexes with a group ``who``: the introduction of a question-and-answer
    #: interview's interviewee.
    interviews: tuple[str, ...] = ()
    #: Regexes with a group ``who``: a heading (no final stop) that names its
    #: speaker ("Сенатор Кори Букер – о промежуточных выборах").
    heading_patterns: tuple[str, ...] = ()
    #: Regexes with a group ``who`` (the interviewee) and optionally ``outlet``
    #: (the interviewer): an interview's title, on one of the top lines.
    interview_titles: tuple[str, ...] = ()
    #: Turn labels that, under an interview title, are the outlet's questions
    #: and the interviewee's answers ("Вопрос:", "Ответ:").
    question_turns: tuple[str, ...] = ()
    answer_turns: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _patterns_compile(self) -> Framing:
        for key in (
            "headers",
            "openings",
            "lead_ins",
            "introductions",
            "institution_headers",
            "turn_labels",
            "interviews",
            "heading_patterns",
            "interview_titles",
        ):
            for pattern in getattr(self, key):
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{key}: invalid regex {pattern!r}: {exc}") from exc
                named = key not in ("openings", "lead_ins")
                if named and "who" not in compiled.groupindex:
                    raise ValueError(f"{key}: {pattern!r} has no (?P<who>…) group")
        try:
            re.compile(self.turn_label_hint)
        except re.error as exc:
            raise ValueError(f"turn_label_hint: invalid regex: {exc}") from exc
        return self


class Speech(_Frozen):
    """Words that make up an attribution."""

    verbs: tuple[str, ...]
    #: More verbs that report a statement when a sentence's subject is their
    #: speaker ("opposition parties accused …", "Analysts say …"); the broad
    #: list of ``LABELING.md``, read by :mod:`monitor.nlp.subjects` only.
    statement_verbs: tuple[str, ...] = ()
    #: Words that make a subject a conduit, not a speaker (LABELING.md): a
    #: reporter, or a medium reporting what others told it.
    conduits: tuple[str, ...] = ()
    #: Words opening a clause (relative pronouns, conjunctions) that a subject
    #: never holds, in this language ("что", "который"); English ones are built in.
    clause_words: tuple[str, ...] = ()
    #: Phrases that put the source after them: "according to X", "según X".
    according: tuple[str, ...] = ("according to",)
    #: Head nouns of data: "according to the official figures" names no
    #: speaker (LABELING.md: "Data are not speakers").
    data_nouns: tuple[str, ...] = ()
    #: Words of reported speech: inside a framed statement, a sentence that
    #: names a third party with one of these is that party's ("…, said X").
    reported_speech: tuple[str, ...] = ()
    #: Verbs with no subject whose speaker is the last one ("говорится": it is
    #: said, in a statement named before). Each must also be a verb.
    impersonal_verbs: tuple[str, ...] = ()
    #: Words opening a description of a person named before ("The President said").
    describers: tuple[str, ...] = ("the", "its", "his", "her", "their", "this", "that")
    #: Words allowed between a speaker and the verb ("on Tuesday", "also").
    fillers: tuple[str, ...] = ()
    #: Titles dropped from the front of a speaker's name.
    titles: tuple[str, ...] = ()
    #: Role nouns between an institution and the verb ("a Kremlin spokesman said").
    roles: tuple[str, ...] = ()
    #: Head nouns of institutions ("Moldova's intelligence service said").
    institutions: tuple[str, ...] = ()
    #: Company nouns, for "the company said" (the company named before).
    companies: tuple[str, ...] = ()
    #: Speakers that are nobody in particular ("Analysts said").
    generic: tuple[str, ...] = ()
    #: Auxiliaries that make a speech verb passive ("was accused").
    passive: tuple[str, ...] = ()
    #: A verb and the word after it that make the verb passive ("accused of").
    passive_phrases: tuple[str, ...] = ()
    #: Prepositions naming a passive verb's agent, who made the statement
    #: ("was criticised by Republican lawmakers" → Republican lawmakers).
    agent_prepositions: tuple[str, ...] = ()
    #: Participles that, followed by an agent preposition with no auxiliary
    #: before them, report the agent's statement ("tres entes identificados por
    #: Estado" → Estado). English passives need their auxiliary ("was
    #: criticised by") and leave this empty.
    agent_participles: tuple[str, ...] = ()
    #: "The two leaders": a number word (``pair_words``) and a plural person
    #: noun (``pair_nouns``) stand for the last two people named before.
    pair_words: tuple[str, ...] = ()
    pair_nouns: tuple[str, ...] = ()
    #: Prepositions attaching a place to a speaker ("the embassy in London said").
    place_prepositions: tuple[str, ...] = ()
    #: Prepositions making a generic head a member of the named body ("Observers from the OSCE").
    member_prepositions: tuple[str, ...] = ()
    #: Verbs that report speech when a pronoun follows ("called it a provocation").
    object_verbs: tuple[str, ...] = ()
    object_pronouns: tuple[str, ...] = ()
    #: Speech verbs in "-ing" form that report what the sentence's subject
    #: said: "Azerbaijan summoned the ambassador, accusing Paris of meddling".
    participles: tuple[str, ...] = ()
    #: Lowercase words allowed inside a name ("of", "de").
    connectors: tuple[str, ...] = ()
    person_pronouns: tuple[str, ...] = ("he", "she")
    group_pronouns: tuple[str, ...] = ("they", "it")
    #: Capitalised words that never start or form a name.
    not_names: tuple[str, ...] = ()
    #: How official documents frame their author.
    framing: Framing = Framing()
    #: Words that tell the gender of the name right after them ("Ms.",
    #: "mother", "spokeswoman"), for resolving "he" and "she".
    female_words: tuple[str, ...] = ()
    male_words: tuple[str, ...] = ()
    #: How a speaker is named: as written, or (an inflected language) in the
    #: nominative, "по словам Дмитрия Пескова" → "Дмитрий Песков"
    #: (:mod:`monitor.nlp.inflection`).
    speaker_case: Literal["as_written", "nominative"] = "as_written"

    @model_validator(mode="after")
    def _passive_phrases_are_pairs(self) -> Speech:
        odd = [p for p in self.passive_phrases if len(p.split()) != 2]
        if odd:
            raise ValueError(f"passive_phrases must be two words each: {', '.join(odd)}")
        return self


class Boilerplate(_Frozen):
    """Rules for text that is not the article."""

    #: Regexes; a line matching one starts a block that runs to the end.
    block_starts: tuple[str, ...] = ()
    #: Regexes; a line matching one is boilerplate on its own.
    lines: tuple[str, ...] = ()
    #: Words of appeals; a line with ``appeal_min`` of them is boilerplate.
    appeal_terms: tuple[str, ...] = ()
    appeal_min: int = Field(default=2, ge=1)
    #: An appeal line must also address the reader with one of these words
    #: (second person: "our"/"us" also occur in quoted news).
    reader_words: tuple[str, ...] = ("you", "your", "please")
    #: Trailing lines at most this many words long, without a full stop, are chrome.
    tail_max_words: int = Field(default=5, ge=0)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything the tagger knows, validated."""

    gazetteer: Gazetteer
    cues: Cues
    speech: Speech
    boilerplate: Boilerplate


_M = TypeVar("_M", bound=BaseModel)


def _load_model(path: Path, model: type[_M]) -> _M:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), "", f"cannot read: {exc.strerror}")]) from exc
    except yaml.YAMLError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise ConfigError([ConfigProblem(str(path), "", f"invalid YAML: {message}")]) from exc
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(str(path), "", "expected a mapping at top level")])
    if model in _WITH_FORMS:
        raw = _expand_forms(raw)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            ConfigProblem(str(path), ".".join(str(p) for p in err["loc"]), err["msg"])
            for err in exc.errors()
        ]
        raise ConfigError(problems) from exc


#: Word lists may write a word's forms compactly: "выбор{ы|ов|ах}" stands for
#: "выборы", "выборов", "выборах" (a group needs a "|"; regex lists, which
#: use braces for repeats, are left alone).
_FORMS = re.compile(r"\{([^{}|]*(?:\|[^{}|]*)+)\}")
_REGEX_KEYS = frozenset({"weak_patterns", "framing"})
_WITH_FORMS: tuple[type[BaseModel], ...] = (Gazetteer, Cues, Speech)


def expand_forms(term: str) -> list[str]:
    """Every form ``term`` writes: "Росси{я|и|ю}" → Россия, России, Россию."""
    match = _FORMS.search(term)
    if match is None:
        return [term]
    head, tail = term[: match.start()], term[match.end() :]
    choices = match.group(1).split("|")
    return [form for choice in choices for form in expand_forms(head + choice + tail)]


def _expand_forms(value: object, key: str = "") -> object:
    """``value`` (parsed YAML) with every string of every list expanded, regex lists excepted."""
    if key in _REGEX_KEYS:
        return value
    if isinstance(value, dict):
        return {k: _expand_forms(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        out: list[object] = []
        for item in value:
            if isinstance(item, str):
                out.extend(expand_forms(item))
            else:
                out.append(_expand_forms(item, key))
        return out
    return value


def load_lexicon(folder: Path) -> Lexicon:
    """Read and validate the four lexicon files in ``folder``."""
    if not folder.is_dir():
        raise ConfigError([ConfigProblem(str(folder), "", "lexicon folder not found")])
    problems: list[ConfigProblem] = []
    parts: dict[str, BaseModel] = {}
    files: dict[str, type[BaseModel]] = {
        "gazetteer": Gazetteer,
        "cues": Cues,
        "speech": Speech,
        "boilerplate": Boilerplate,
    }
    for name, model in files.items():
        try:
            parts[name] = _load_model(folder / f"{name}.yaml", model)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return Lexicon(
        gazetteer=_cast(parts["gazetteer"], Gazetteer),
        cues=_cast(parts["cues"], Cues),
        speech=_cast(parts["speech"], Speech),
        boilerplate=_cast(parts["boilerplate"], Boilerplate),
    )


def _cast(value: BaseModel, model: type[_M]) -> _M:
    assert isinstance(value, model)
    return value
