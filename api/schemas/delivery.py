"""Schema pieces the subscription and watch bodies share: delivery addresses and the channels needing them.

Written as JSON Schema patterns and ``if``/``then`` clauses the validators below agree with, so clients
(and schemathesis) learn the rules from the OpenAPI schema.
"""

from __future__ import annotations

import re

from pydantic.json_schema import JsonDict

from core.text import WHITESPACE_CLASS

# Not "@" and not whitespace (as str.strip reads it), spelled for the schema's pattern and the check alike.
_ADDRESS_PART = f"[^@{WHITESPACE_CLASS[1:-1]}]+"
EMAIL_PATTERN = f"^{WHITESPACE_CLASS}*{_ADDRESS_PART}@{_ADDRESS_PART}\\.{_ADDRESS_PART}{WHITESPACE_CLASS}*$"
EMAIL = re.compile(EMAIL_PATTERN)


def channel_needs(channel: str, field: str, present: JsonDict) -> JsonDict:
    """``if`` the channels include ``channel`` ``then`` ``field`` is given (and matches ``present``)."""
    return {
        "if": {"required": ["channels"], "properties": {"channels": {"contains": {"const": channel}}}},
        "then": {"required": [field], "properties": {field: present}},
    }


CHANNEL_ADDRESSES: list[JsonDict] = [
    channel_needs("webhook", "webhook_url", {"type": "string"}),
    channel_needs("email", "email", {"type": "string"}),
    channel_needs("im", "apprise_urls", {"minItems": 1}),
]
