"""Keyword terms: lemmatised Russian and Snowball stems per script; user text never becomes FTS5 syntax."""

from __future__ import annotations

import pytest

from kb.text import fts_query, terms


def test_russian_and_english_stems() -> None:
    assert terms("Отсрочки платежа") == terms("отсрочка платежей")
    assert terms("licensing licensed") == ["licens", "licens"]
    assert terms("ёлка") == terms("елка")


def test_russian_forms_that_suffix_stripping_misses_meet_through_their_lemma() -> None:
    assert terms("людей") == terms("человек")
    assert terms("пишите") == terms("писать")
    assert terms("ядра") == terms("ядро")


def test_an_email_address_is_one_term_not_its_domain_words() -> None:
    got = terms("Бухгалтерия: buh@romashka-dom.example, Ромашка")
    assert "romashka" not in got and "dom" not in got and len(got) == 3
    assert terms("buh@romashka-dom.example")[0] in fts_query("Whose address is buh@romashka-dom.example?")
    assert '"romashka"' not in fts_query("Whose address is buh@romashka-dom.example?")


@pytest.mark.parametrize("text", ['"quoted" NEAR(a b) col:value * AND OR NOT ^x', "a-b/c", "(((", "💥 emoji"])
def test_fts_query_is_quoted_terms(text: str) -> None:
    query = fts_query(text)
    for part in query.split(" OR ") if query else []:
        assert part.startswith('"') and part.endswith('"') and '"' not in part[1:-1]


def test_latin_names_also_search_their_cyrillic_spelling() -> None:
    from kb.text import name_variants, to_cyrillic

    assert to_cyrillic("Romashka") == "ромашка" and to_cyrillic("Shchukin") == "щукин"
    assert name_variants("What deferral does Romashka have?") == ["ромашка"]
    assert '"ромашк"' in fts_query("What deferral does Romashka have?")


def test_function_words_are_searched_only_when_nothing_else_is_asked() -> None:
    query = fts_query("Как и для кого оформить возврат?")
    assert query.split(" OR ") == [f'"{t}"' for t in terms("оформить возврат")]  # "как", "и", "для" left out
    assert fts_query("What is the discount for Romashka?").split(" OR ") == ['"discount"', '"romashka"', '"ромашк"']
    assert fts_query("Что это?") == " OR ".join(f'"{t}"' for t in terms("Что это?"))  # nothing but them: all kept



def test_stemming_from_many_threads_gives_what_one_thread_gives() -> None:
    """The web app stems a question and a briefing at once: a Snowball stemmer shared by threads broke (500s)."""
    import threading

    from kb.text import snowball

    words = [f"северстроймонтажа{i}" for i in range(2000)] + [f"ромашкой{i}" for i in range(2000)]
    expected = [snowball("russian", w) for w in words]
    results: list[list[str]] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            results.append([snowball("russian", w) for w in words])
        except Exception as exc:  # noqa: BLE001 - any failure in a thread is the finding
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and all(r == expected for r in results)
