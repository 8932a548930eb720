"""Free text people type: control characters dropped, text that shows nothing refused.

PostgreSQL refuses NUL in text, and a complaint, reason or name made only of zero-width spaces, byte
order marks or direction overrides (U+200B, U+FEFF, U+202E) looks blank to every reader while passing
any length check; both channels (API and import) refuse it with the same Chinese message.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab, newline and carriage return, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Letters, marks that carry meaning only with them, numbers, punctuation, symbols.
_VISIBLE_CATEGORIES = frozenset("LNPS")
INVISIBLE_ONLY = "只含不可见字符或控制字符，请填写实际内容 (only invisible or control characters)"


def has_visible_character(text: str) -> bool:
    return any(unicodedata.category(character)[0] in _VISIBLE_CATEGORIES for character in text)


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


def optional_text(value: object) -> object:
    """``cleaned_text``, with blank as None."""
    value = cleaned_text(value)
    return value or None
