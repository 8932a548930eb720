"""Visible text: the OpenAPI schema's patterns and the validators say the same thing about every input.

A client (and schemathesis) reads the rule from the schema; the API enforces it in Python. Checked with
jsonschema-rs, the validator schemathesis uses (a Rust engine reading ECMA-262 patterns), over every
code point and over generated mixtures of visible, invisible, whitespace and control characters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from api.main import create_app
from api.schemas.complaints import TransitionRequest
from complaints.schemas import ComplaintCreate
from core.text import (
    INVISIBLE_RANGES,
    VISIBLE_CLASS,
    character_class,
    has_visible_character,
    shows_at_least,
)

SURROGATES = range(0xD800, 0xE000)
# Letters that render as blank space (Hangul fillers), counted invisible as Unicode's
# Default_Ignorable_Code_Point does.
BLANK_LETTERS = {0x115F, 0x1160, 0x3164, 0xFFA0}
# A mixture that exercises every branch: visible letters, CJK, digits and symbols; zero-width, direction
# and format characters; whitespace; controls.
MIXED = st.text(
    alphabet=st.sampled_from(
        [
            *"a中1。€\u0301",
            *("\u200b", "\u200f", "\u2028", "\u202e", "\u2060", "\u2064", "\ufeff", "\u3164", "\ufe0f"),
            *(" ", "\t", "\n", "\u3000", "\u00a0", "\x00", "\x01", "\x1c", "\x7f", "\x85", "\U000e0041"),
        ]
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(migrate=False).openapi()


def _property(openapi: dict[str, Any], model: str, name: str) -> Any:
    return jsonschema_rs.validator_for(openapi["components"]["schemas"][model]["properties"][name])


def _accepts(model: type[BaseModel], data: dict[str, Any], field: str) -> bool:
    try:
        model.model_validate(data)
    except ValidationError as error:
        return not any(e["loc"] and e["loc"][0] == field for e in error.errors())
    return True


def test_the_visible_class_agrees_with_the_function_on_every_code_point() -> None:
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": VISIBLE_CLASS})
    disagreeing = [
        hex(code_point)
        for code_point in range(0x110000)
        if code_point not in SURROGATES
        and validator.is_valid(chr(code_point)) != has_visible_character(chr(code_point))
    ]
    assert disagreeing == []


def test_what_shows_nothing_by_unicode_is_invisible() -> None:
    invisible = {code for low, high in INVISIBLE_RANGES for code in range(low, high + 1)}
    for code_point in range(0x110000):
        category = unicodedata.category(chr(code_point))
        if category in ("Cc", "Zs", "Zl", "Zp"):
            assert code_point in invisible, hex(code_point)
        if code_point in invisible and category[0] in "LNPS":
            assert code_point in BLANK_LETTERS, hex(code_point)
    for blank in ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2060"):
        assert not has_visible_character(blank)


@settings(max_examples=400, deadline=None)
@given(text=MIXED)
def test_complaint_text_schema_and_validator_agree(openapi: dict[str, Any], text: str) -> None:
    schema = _property(openapi, "ComplaintCreate", "text")
    assert schema.is_valid(text) == _accepts(ComplaintCreate, {"text": text}, "text"), repr(text)


@settings(max_examples=400, deadline=None)
@given(text=MIXED)
def test_optional_complaint_fields_schema_and_validator_agree(openapi: dict[str, Any], text: str) -> None:
    body = {"text": "超市多收钱了。"}
    for field in ("title", "merchant_name", "district", "consumer_name", "contact"):
        schema = _property(openapi, "ComplaintCreate", field)
        accepted = _accepts(ComplaintCreate, {**body, field: text}, field)
        assert schema.is_valid(text) == accepted, (field, repr(text))


@settings(max_examples=400, deadline=None)
@given(text=MIXED)
def test_transition_note_schema_and_validator_agree(openapi: dict[str, Any], text: str) -> None:
    schema = _property(openapi, "TransitionRequest", "note")
    accepted = _accepts(TransitionRequest, {"to_status": "accepted", "note": text}, "note")
    assert schema.is_valid(text) == accepted, repr(text)


@given(text=MIXED, count=st.integers(min_value=1, max_value=8))
def test_shows_at_least_counts_visible_characters_only(text: str, count: int) -> None:
    visible = sum(has_visible_character(character) for character in text)
    assert shows_at_least(text, count) == (visible >= count)


@settings(max_examples=200)
@given(
    chosen=st.sets(st.integers(0, 0x2FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF), max_size=40),
    probe=st.integers(0, 0x2FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF),
)
def test_a_character_class_holds_exactly_its_code_points(chosen: set[int], probe: int) -> None:
    """Also the characters a class treats specially (``]``, ``-``, ``^``, ``\\``) and astral ones."""
    special = {ord(c) for c in "]-^\\["} | {0x1F600, 0x1F601, 0x1F603}
    points = chosen | special
    inside, outside = re.compile(character_class(points)), re.compile(character_class(points, negated=True))
    for code_point in (*points, probe):
        member = code_point in points
        assert bool(inside.fullmatch(chr(code_point))) == member
        assert bool(outside.fullmatch(chr(code_point))) != member
