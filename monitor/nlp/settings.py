"""Settings of the NLP stage: the ``nlp:`` section of ``config/monitor.yaml``."""

from __future__ import annotations

import pathlib

from pydantic import BaseModel, ConfigDict, Field, model_validator


class HistorySettings(BaseModel):
    """The local statement history (``nlp.history``): what the NLP stage published,
    kept in ``<state_dir>/statements.sqlite3`` for ``monitor rules backtest``.

    Bounded both ways: an article is dropped when it is older than
    ``retention_days`` or when ``max_articles`` newer ones are kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Record tagged articles (those with at least one statement) locally.
    enabled: bool = True
    #: Articles recorded longer ago than this are pruned.
    retention_days: float = Field(default=30.0, gt=0, le=3650)
    #: At most this many articles are kept (the oldest go first).
    max_articles: int = Field(default=100_000, ge=1, le=10_000_000)


class NlpSettings(BaseModel):
    """How articles are tagged; every field has a working default.

    ``lexicon_dir`` is resolved against the config folder; it holds the
    gazetteer, the cue lexicon, the speaker rules and the boilerplate rules.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Name of an installed trained spaCy pipeline (e.g. ``en_core_web_sm``)
    #: used for entities on top of the gazetteer; ``None`` = rules only.
    model: str | None = None
    #: The English lexicon folder.
    lexicon_dir: str = "nlp"
    #: The other languages tagged, each with its lexicon folder (same layout as
    #: ``lexicon_dir``, relative to it; see README "Languages"). An article in a
    #: language not listed is split into statements but never tagged (nor with
    #: English rules).
    lexicons: dict[str, str] = Field(default_factory=lambda: {"es": "es", "ru": "ru"})

    def lexicon_folder(self, language: str) -> str:
        """The lexicon folder of ``language``, relative to the config folder."""
        if language == "en":
            return self.lexicon_dir
        return str(pathlib.PurePath(self.lexicon_dir) / self.lexicons[language])

    #: Languages the identifier chooses among (ISO 639-1); the tagged ones must
    #: be among them. More candidates cost a little more per non-English article.
    language_candidates: tuple[str, ...] = (
        "en", "es", "ru", "fr", "de", "pt", "it", "uk", "pl", "ar", "zh", "tr", "fa", "nl",
        "ro", "ja", "ko", "hi",
    )  # fmt: skip
    #: Send articles with no candidate term, and lines with no cue, past spaCy.
    prefilter: bool = True
    #: Longest stretch tagged as one document. A longer article is tagged whole,
    #: in pieces of at most this many characters cut between statements; article
    #: context (election/interference context, "he said") does not cross pieces.
    max_chars: int = Field(default=200_000, gt=0)
    #: Texts per ``nlp.pipe`` batch in :meth:`Tagger.tag_many`.
    batch_size: int = Field(default=32, gt=0)
    #: The local statement history ``monitor rules backtest`` reads (see HistorySettings).
    history: HistorySettings = HistorySettings()

    @model_validator(mode="after")
    def _tagged_languages_are_candidates(self) -> NlpSettings:
        missing = sorted({"en", *self.lexicons} - set(self.language_candidates))
        if missing:
            raise ValueError(f"tagged languages missing from language_candidates: {missing}")
        return self
