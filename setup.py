"""Build hook: compile the NLP hot path with mypyc when asked to.

``MONITOR_USE_MYPYC=1 pip wheel --no-build-isolation .`` (or ``pip install``)
builds a wheel whose tagging modules are C extensions compiled by mypyc from
the same typed sources (the way mypy and black ship); without the variable, and
always for editable installs, the package is pure Python. The compiled and the
pure forms tag identically: ``scripts/test`` runs tests/nlp against both.

Compiling needs mypy (the dev lock has it) and a C compiler; everything else in
the project, pyproject.toml declares.
"""

from __future__ import annotations

import os

from setuptools import setup

#: Modules of monitor.nlp that run per sentence or per word (see
#: docs/benchmarks.md). Left out: spaCy glue (pipeline: tests patch its
#: feeder), command-line and config loading, and what runs once per article.
COMPILED = [
    "assemble",
    "boilerplate",
    "framing",
    "gender",
    "inflection",
    "memory",
    "names",
    "patterns",
    "phrases",
    "pieces",
    "result",
    "rules",
    "scope",
    "segment",
    "speakers",
    "speech_rules",
    "subjects",
    "tagger",
    "terms",
    "words",
]


def _extensions() -> list[object]:
    if os.environ.get("MONITOR_USE_MYPYC") != "1":
        return []
    from mypyc.build import mypycify  # only a compiled build needs mypy

    return list(mypycify([f"monitor/nlp/{name}.py" for name in COMPILED], opt_level="3"))


setup(ext_modules=_extensions())
