"""Free text people type: control characters dropped, text that shows nothing refused.

PostgreSQL refuses NUL in text, and a complaint, reason or name made only of zero-width spaces, byte
order marks or direction overrides (U+200B, U+FEFF, U+202E) looks blank to every reader while passing
any length check; both channels (API and import) refuse it with the same Chinese message.

What counts as visible is one character class, written out as code point ranges, so the OpenAPI
schema states the same rule as a ``pattern`` (JSON Schema has no Unicode categories a client's regex
engine is sure to know) and ``has_visible_character`` is that very class.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

# C0 controls except tab, newline and carriage return, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Characters that show nothing: controls (C0, DEL, C1), Unicode's White_Space and its
# Default_Ignorable_Code_Point (zero-width and direction marks U+200B..U+200F and U+202A..U+202E,
# U+2060..U+206F, U+FEFF, soft hyphen, variation selectors, Hangul fillers, tags ...).
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020),
    (0x007F, 0x00A0),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x1680, 0x1680),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x206F),
    (0x3000, 0x3000),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# What ``str.strip`` removes (Python's whitespace): a field of only these is blank, not invisible.
WHITESPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0009, 0x000D),
    (0x001C, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)


def _spelled(code_point: int) -> str:
    # \uXXXX reads the same in ECMA-262, Python and Rust; astral characters are written as themselves
    # (ECMA has no escape for them outside unicode mode).
    return f"\\u{code_point:04X}" if code_point <= 0xFFFF else chr(code_point)


def _class(ranges: Iterable[tuple[int, int]], *, negated: bool = False) -> str:
    spans = "".join(
        _spelled(low) if low == high else f"{_spelled(low)}-{_spelled(high)}" for low, high in ranges
    )
    return f"[{'^' if negated else ''}{spans}]"


def character_class(code_points: Iterable[int], *, negated: bool = False) -> str:
    """A regex class of the code points as ranges of neighbours (a class listing hundreds of single
    characters is scanned slowly)."""
    ranges: list[tuple[int, int]] = []
    for code_point in sorted(set(code_points)):
        if ranges and code_point == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code_point)
        else:
            ranges.append((code_point, code_point))
    return _class(ranges, negated=negated)


VISIBLE_CLASS = _class(INVISIBLE_RANGES, negated=True)
INVISIBLE_CLASS = _class(INVISIBLE_RANGES)
WHITESPACE_CLASS = _class(WHITESPACE_RANGES)
# A JSON Schema pattern for text that ``str.strip`` does not empty.
NOT_BLANK_PATTERN = _class(WHITESPACE_RANGES, negated=True)


def stripped_length_pattern(minimum: int) -> str:
    """A JSON Schema pattern for text at least ``minimum`` (≥ 2) characters long once stripped."""
    return f"{NOT_BLANK_PATTERN}[\\s\\S]{{{minimum - 2},}}{NOT_BLANK_PATTERN}"


# A JSON Schema pattern (searched, not anchored): blank, or at least one visible character.
OPTIONAL_TEXT_PATTERN = f"^{WHITESPACE_CLASS}*$|{VISIBLE_CLASS}"
_VISIBLE = re.compile(VISIBLE_CLASS)

INVISIBLE_ONLY = "只含不可见字符或控制字符，请填写实际内容 (only invisible or control characters)"


def visible_text_pattern(count: int) -> str:
    """A JSON Schema pattern for text with at least ``count`` visible characters (one unambiguous path,
    so engines match it in linear time)."""
    if count <= 1:
        return VISIBLE_CLASS
    return f"{VISIBLE_CLASS}(?:{INVISIBLE_CLASS}*{VISIBLE_CLASS}){{{count - 1}}}"


def has_visible_character(text: str) -> bool:
    return _VISIBLE.search(text) is not None


def shows_at_least(text: str, count: int) -> bool:
    """Whether ``text`` has ``count`` visible characters (stops at the ``count``-th: texts run to 5,000)."""
    return next(itertools.islice(_VISIBLE.finditer(text), count - 1, None), None) is not None


def cleaned_text(value: object) -> object:
    """``value`` without control characters and surrounding whitespace; non-strings unchanged.

    Raises ValueError when something was typed but none of it is visible; plain whitespace is blank.
    """
    if not isinstance(value, str):
        return value
    text = CONTROL_CHARACTERS.sub("", value).strip()
    if text and not has_visible_character(text):
        raise ValueError(INVISIBLE_ONLY)
    if not text and value.strip():
        raise ValueError(INVISIBLE_ONLY)
    return text


def required_text(value: object, min_visible: int) -> object:
    """``cleaned_text`` that must show at least ``min_visible`` characters (shorter text is left to the
    field's length check, which says so in the channel's own words)."""
    text = cleaned_text(value)
    if isinstance(text, str) and len(text) >= min_visible and not shows_at_least(text, min_visible):
        raise ValueError(
            f"内容太短：至少需要 {min_visible} 个可见字符 (at least {min_visible} visible characters)"
        )
    return text


def optional_text(value: object) -> object:
    """``cleaned_text``, with blank as None."""
    value = cleaned_text(value)
    return value or None
