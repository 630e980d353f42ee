"""Settings of the NLP stage: the ``nlp:`` section of ``config/monitor.yaml``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NlpSettings(BaseModel):
    """How articles are tagged; every field has a working default.

    ``lexicon_dir`` is resolved against the config folder; it holds the
    gazetteer, the cue lexicon, the speaker rules and the boilerplate rules.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Name of an installed trained spaCy pipeline (e.g. ``en_core_web_sm``)
    #: used for entities on top of the gazetteer; ``None`` = rules only.
    model: str | None = None
    lexicon_dir: str = "nlp"
    #: Send articles with no candidate term, and lines with no cue, past spaCy.
    prefilter: bool = True
    #: Longest stretch tagged as one document. A longer article is tagged whole,
    #: in pieces of at most this many characters cut between statements; article
    #: context (election/interference context, "he said") does not cross pieces.
    max_chars: int = Field(default=200_000, gt=0)
    #: Texts per ``nlp.pipe`` batch in :meth:`Tagger.tag_many`.
    batch_size: int = Field(default=32, gt=0)
