"""monitor.nlp.inflection: speakers' names in the nominative."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.errors import ConfigError
from monitor.nlp.inflection import nominative_names


@pytest.fixture(scope="module")
def nominative() -> Callable[[str], str]:
    return nominative_names("ru")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Дмитрия Пескова", "Дмитрий Песков"),
        ("Марии Захаровой", "Мария Захарова"),
        ("Сергея Викторовича Лаврова", "Сергей Викторович Лавров"),
        # Titles in the genitive are left out with the case they stand in.
        ("пресс-секретаря Кремля Дмитрия Пескова", "Дмитрий Песков"),
        ("посла США в РФ Джона Салливана", "Джон Салливан"),
        ("Пескова", "Песков"),
    ],
)
def test_an_oblique_name_is_given_in_the_nominative(
    nominative: Callable[[str], str], written: str, expected: str
) -> None:
    assert nominative(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "Дмитрий Песков",  # nominative already
        "МИД Мария Захарова",
        "Президент Трамп",
        "Мюллер",
        "Песков",  # a dictionary word too ("песок"): left alone
        "В Кремле",  # no name
        "аналитики",
    ],
)
def test_anything_else_is_returned_as_written(
    nominative: Callable[[str], str], written: str
) -> None:
    assert nominative(written) == written


def test_a_language_without_a_dictionary_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="speaker_case"):
        nominative_names("es")
