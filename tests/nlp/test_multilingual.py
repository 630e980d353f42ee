"""Languages: identify, then tag with the language's lexicon, or only split."""

from __future__ import annotations

import pytest

from monitor.nlp.language import LanguageIdentifier
from monitor.nlp.lexicon import expand_forms
from monitor.nlp.multilingual import MultilingualTagger
from monitor.nlp.settings import NlpSettings


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(NlpSettings().language_candidates)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The Kremlin said the opposition must accept the result of the election.", "en"),
        ("El Kremlin pidió a la oposición venezolana aceptar la derrota en las elecciones.", "es"),
        ("Кремль призвал оппозицию Венесуэлы признать поражение на выборах.", "ru"),
        ("Le Kremlin a demandé à l'opposition d'accepter sa défaite aux élections.", "fr"),
    ],
)
def test_the_text_decides_the_language(
    identifier: LanguageIdentifier, text: str, language: str
) -> None:
    assert identifier.identify(text).code == language


def test_a_declared_language_decides_only_when_the_text_says_little(
    identifier: LanguageIdentifier,
) -> None:
    assert identifier.identify("Venezuela: Maduro", "es-VE").code == "es"
    assert identifier.identify("Кремль призвал оппозицию признать поражение.", "en").code == "ru"


def test_forms_in_braces_expand_and_regex_repeats_do_not() -> None:
    assert expand_forms("выбор{ы|ов}") == ["выборы", "выборов"]
    assert expand_forms("{E|e}lecci{ón|ones}") == [
        "Elección",
        "Elecciones",
        "elección",
        "elecciones",
    ]
    assert expand_forms(r"\w{0,2}") == [r"\w{0,2}"]


def test_spanish_and_russian_are_tagged_with_their_own_lexicons(
    multilingual: MultilingualTagger,
) -> None:
    spanish = multilingual.tag(
        "Rusia y las elecciones\n"
        "“Rusia intenta minar nuestros esfuerzos en las elecciones”, dijo Michael Kozak."
    )
    assert spanish.language == "es"
    statement = spanish.statements[1]
    assert statement.tags == ("election", "foreign_interference")
    assert statement.speaker == "Michael Kozak"
    russian = multilingual.tag(
        "Кремль о выборах\n«Россия не вмешивается в выборы», – заявил Дмитрий Песков."
    )
    assert russian.language == "ru"
    assert russian.statements[1].tags == ("election", "foreign_interference")
    assert russian.statements[1].speaker == "Дмитрий Песков"


def test_spanish_false_information_from_a_foreign_state_is_interference(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "EE.UU. acusó a Rusia y China de promover una campaña de desinformación.\n"
        "EE.UU. acusó a Russia Today, un medio financiado por el gobierno ruso, de promover "
        "teorías conspiratorias e información falsa en Latinoamérica.\n"
        "“Divulga información falsa sobre los gobiernos locales”, aseguró Lea Gabrielle."
    )
    tags = [s.tags for s in multilingual.tag(text).statements]
    assert tags == [("foreign_interference",)] * 3
    # Outside a story of interference, false information is only that.
    domestic = multilingual.tag(
        "Los bancos locales de Madrid publicaron información falsa sobre sus cuentas de ahorro."
    )
    assert [s.tags for s in domestic.statements] == [()]


def test_a_language_not_tagged_is_split_but_never_tagged(multilingual: MultilingualTagger) -> None:
    french = multilingual.tag(
        "Ingérence étrangère\n"
        "Le gouvernement a dénoncé une ingérence étrangère dans les élections. "
        "Le ministre a démenti."
    )
    assert french.language == "fr"
    assert len(french.statements) == 3
    assert all(not s.tags and s.speaker is None for s in french.statements)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Итоги\nОб этом накануне заявил пресс-секретарь президента РФ Дмитрий Песков.", "Песков"),
        ("Итоги\nВыборы прошли честно, говорят аналитики.", "аналитики"),
        ("Итоги\nСенатор Кори Букер – о промежуточных выборах в Конгресс", "Кори Букер"),
        ("Итоги\nРуководство комиссии выпустило заявление.\nВ заявлении говорится, что выборы "
         "прошли нечестно.", "Руководство комиссии"),
    ],
)  # fmt: skip
def test_russian_attribution_shapes(
    multilingual: MultilingualTagger, text: str, speaker: str
) -> None:
    found = multilingual.tag(text).statements[-1].speaker
    assert found is not None and speaker in found


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Опрос\nОб этом заявили 60% опрошенных.", "60% опрошенных"),
        ("Букер\nСенатор Кори Букер, представляющий штат Нью-Джерси, в интервью службе «Голоса "
         "Америки» поделился своим мнением о выборах.", "Кори Букер"),
    ],
)  # fmt: skip
def test_more_russian_shapes(multilingual: MultilingualTagger, text: str, speaker: str) -> None:
    found = multilingual.tag(text).statements[-1].speaker
    assert found is not None and speaker in found


def test_too_little_text_takes_the_hint_or_english(identifier: LanguageIdentifier) -> None:
    assert identifier.identify("x").code == "en"
    assert identifier.identify("Caracas", "es").code == "es"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # A name in the genitive is given in the nominative (speaker_case).
        ("Итоги\nПо словам Дмитрия Пескова, Россия не вмешивалась в выборы.", "Дмитрий Песков"),
        ("Итоги\nПо словам официального представителя МИД Марии Захаровой, выборы прошли "
         "честно.", "Мария Захарова"),
        # "что" opens a clause; the quoted participant is the speaker, not the outlet.
        ("Протест\nА вот, что сообщало издание Life Sports, цитируя одного из участников "
         "акции протеста: […]", "одного из участников акции протеста"),
    ],
)  # fmt: skip
def test_russian_speakers_in_their_dictionary_form(
    multilingual: MultilingualTagger, text: str, speaker: str
) -> None:
    assert multilingual.tag(text).statements[-1].speaker == speaker


def test_a_russian_interview_gives_questions_to_the_outlet_and_answers_to_the_interviewee(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "Интервью посла США в РФ Джона Салливана РБК ТВ\n\n"
        "Вопрос: Как Вы оцениваете свое назначение на пост посла? Что изменится?\n\n"
        "Ответ: Спасибо, Илья, я рад нашей встрече. Моя задача состоит в том, чтобы "
        "улучшить отношения.\n\n"
        "Вопрос: А выборы в России?\n\n"
        "Ответ: Это дело граждан России."
    )
    speakers = {s.text: s.speaker for s in multilingual.tag(text).statements}
    assert speakers["Интервью посла США в РФ Джона Салливана РБК ТВ"] is None
    for question in ("Вопрос: Как Вы", "Что изменится?", "Вопрос: А выборы"):
        assert [who for said, who in speakers.items() if said.startswith(question)] == ["РБК ТВ"]
    for answer in ("Ответ: Спасибо", "Моя задача", "Ответ: Это дело"):
        assert [who for said, who in speakers.items() if said.startswith(answer)] == [
            "Джон Салливан"
        ]


def test_a_spanish_interview_gives_questions_to_the_journalist_in_its_title(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "Secretario de Estado Michael R. Pompeo con Wolf Blitzer de CNN\n\n"
        "Departamento de Estado de los Estados Unidos\nEntrevista\n\n"
        "PREGUNTA: El Secretario nos acompaña ahora. Muchas gracias por acompañarnos.\n\n"
        "SECRETARIO POMPEO: Así es, Wolf. Es un gusto estar hoy con usted.\n\n"
        "PREGUNTA: ¿Sabía el Gobierno de Estados Unidos que se aproximaba el levantamiento?"
    )
    speakers = {s.text: s.speaker for s in multilingual.tag(text).statements}
    for question in ("PREGUNTA: El Secretario", "Muchas gracias", "PREGUNTA: ¿Sabía"):
        assert [who for said, who in speakers.items() if said.startswith(question)] == [
            "Wolf Blitzer"
        ]
    assert [who for said, who in speakers.items() if said.startswith("SECRETARIO")] == [
        "SECRETARIO POMPEO"
    ]


def test_a_spanish_verb_with_no_subject_written_is_the_last_speakers(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "La candidata opositora María López dijo a la prensa el lunes que votará temprano. "
        "Además, señaló que el fraude electoral fue evidente en las elecciones presidenciales."
    )
    assert [s.speaker for s in multilingual.tag(text).statements] == ["María López"] * 2


def test_a_spanish_lead_in_with_no_subject_frames_the_lines_after_it(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "Gabriela Molina, de Santa Cruz, fue delegada en el referéndum del domingo. "
        "En una entrevista que conduje con ella, explicó:\n"
        "Nada de esto es nuevo en las elecciones. "
        "Pero esta vez podemos impactar una campaña electoral con la verdad."
    )
    assert [s.speaker for s in multilingual.tag(text).statements] == ["Gabriela Molina"] * 3


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Sanciones\nTres entes identificados por Estado como la Agencia de Diseño Social "
         "serían responsables de la campaña de desinformación.", "Estado"),
        ("Elecciones\nLa medida fue rechazada por la oposición venezolana en las elecciones.",
         "la oposición venezolana"),
        ("Elecciones\nEsa medida ha sido criticada por el Departamento de Estado en marzo.",
         "el Departamento de Estado"),
    ],
)  # fmt: skip
def test_a_spanish_participle_with_an_agent_is_the_agents_statement(
    multilingual: MultilingualTagger, text: str, speaker: str
) -> None:
    assert multilingual.tag(text).statements[-1].speaker == speaker


def test_a_spanish_participle_without_an_agent_names_nobody(
    multilingual: MultilingualTagger,
) -> None:
    text = "Elecciones\nEl candidato, acusado de fraude electoral, votó el domingo."
    assert multilingual.tag(text).statements[-1].speaker is None


def test_a_meeting_of_two_officials_is_no_interview(multilingual: MultilingualTagger) -> None:
    text = (
        "Secretario de Estado Michael R. Pompeo con Presidente Iván Duque\n\n"
        "PREGUNTA: ¿Qué esperan de las elecciones en Venezuela?"
    )
    assert multilingual.tag(text).statements[-1].speaker is None


def test_a_russian_experts_comment_under_their_name_is_theirs(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "Русская служба попросила трех экспертов оценить выборы, проходящие в России.\n"
        "Уильям Кортни, бывший посол США в Казахстане, старший аналитик Корпорации RAND:\n"
        "«Думаю, что правительство России идет на риск, ограничивая дебаты перед выборами.\n"
        "Правительство знает историю выборов в Грузии».\n"
        "После выборов в Думу протесты продолжились."
    )
    speakers = [s.speaker for s in multilingual.tag(text).statements]
    assert speakers == [None, "Уильям Кортни", "Уильям Кортни", "Уильям Кортни", None]


def test_transcript_turns_in_cyrillic_capitals_name_their_speaker(
    multilingual: MultilingualTagger,
) -> None:
    text = (
        "Брифинг для прессы\n\n"
        "Г-Н ПРАЙС: Добрый день. Сегодня у нас важный гость.\n\n"
        "ГОССЕКРЕТАРЬ БЛИНКЕН: Спасибо. Выборы в Молдове должны быть свободными.\n\n"
        "Посол Салливан: Я был в суде на этой неделе."
    )
    speakers = {s.text: s.speaker for s in multilingual.tag(text).statements}
    assert speakers["Сегодня у нас важный гость."] == "Г-Н ПРАЙС"
    assert speakers["Выборы в Молдове должны быть свободными."] == "ГОССЕКРЕТАРЬ БЛИНКЕН"
    assert speakers["Посол Салливан: Я был в суде на этой неделе."] == "Посол Салливан"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('Elecciones\nAlmagro: "Demostración masiva" de los venezolanos en Washington', "Almagro"),
        ("Выборы\nБрет Шафер: «Россия может вмешаться в наши выборы»", "Брет Шафер"),
    ],
)
def test_a_name_colon_quotation_heading_is_the_names(
    multilingual: MultilingualTagger, text: str, speaker: str
) -> None:
    assert multilingual.tag(text).statements[-1].speaker == speaker


def test_a_statement_header_below_a_government_pages_furniture_frames_the_body(
    multilingual: MultilingualTagger,
) -> None:
    furniture = "\n".join(
        ["Próximas elecciones", "Departamento de Estado", "Traducción cortesía del Departamento",
         "Para su divulgación inmediata", "Português, English", "Oficina de la Portavoz",
         "Para su divulgación inmediata"]
    )  # fmt: skip
    text = (
        f"{furniture}\nDeclaración del Secretario de Estado, Michael R. Pompeo\n"
        "8 de octubre de 2020\n\n"
        "Los Estados Unidos apoyan las elecciones libres y justas en la región."
    )
    body = multilingual.tag(text).statements[-1]
    assert body.speaker is not None and "Pompeo" in body.speaker
