"""The tokenizer: dictionary words stay whole, offsets point into the original, synonyms at query time."""

from __future__ import annotations

from core.tokenizer import MAX_QUERY_TERMS, get_tokenizer, highlight_spans


def test_dictionary_terms_are_single_tokens() -> None:
    terms = (
        get_tokenizer()
        .index_text("药店哄抬物价，84消毒液囤积居奇，还缺斤短两、以次充好，霸王条款，预付卡跑路")
        .split()
    )
    for word in ("哄抬物价", "84消毒液", "囤积居奇", "缺斤短两", "以次充好", "霸王条款", "预付卡"):
        assert word in terms


def test_search_mode_also_indexes_the_words_inside_longer_ones() -> None:
    terms = get_tokenizer().index_text("鲜猪肉和医用口罩").split()
    assert {"鲜猪肉", "猪肉", "医用口罩", "口罩"} <= set(terms)


def test_terms_are_letters_and_digits_only_lower_case_and_nfkc() -> None:
    terms = get_tokenizer().index_text('Ｎ９５口罩 "OR" NEAR(x) -- 😡 a_b').split()
    assert "n95" in terms
    assert all(term.isalnum() and term == term.lower() for term in terms)
    assert "😡" not in terms


def test_offsets_point_into_the_original_text() -> None:
    text = "买了Ｎ９５口罩，鲜猪肉也涨价"
    for token in get_tokenizer().tokens(text):
        assert text[token.start : token.end]
    assert [text[s:e] for s, e in highlight_spans(text, {"n95", "猪肉"})] == ["Ｎ９５", "猪肉"]


def test_synonyms_widen_each_query_term() -> None:
    groups = get_tokenizer().query_terms("番茄 猪肉")
    assert ("西红柿" in groups[0]) and ("番茄" in groups[0])
    assert {"猪肉", "鲜猪肉"} <= set(groups[1])


def test_long_noise_is_capped_not_refused() -> None:
    groups = get_tokenizer().query_terms(" ".join(f"词{i}" for i in range(200)))
    assert len(groups) == MAX_QUERY_TERMS
    assert get_tokenizer().query_terms("！！！ ((( 😡") == []


def test_terms_without_offsets_are_the_same_terms() -> None:
    text = "南岗区药店Ｎ９５口罩哄抬物价，鲜猪肉缺斤短两！电话139****5678"
    tokenizer = get_tokenizer()
    assert sorted(tokenizer.terms(text)) == sorted(token.term for token in tokenizer.tokens(text))
