"""Reading a repository's JSON without trusting its shape.

A repository's answer is someone else's data: a field may be missing, null, of another type or absurdly
large. These readers return an empty value of the expected type instead of raising, so that a resolver
reads what it can and refuses, with a message, only what it needs (a file without a name, say).
"""

import re

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:$|[T /])")


def obj(value):
    """Return `value` if it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def items(value):
    """Return `value` if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def text(value):
    """Return a JSON string stripped, a number as text, anything else as ""."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def whole_number(value):
    """Return a non-negative integer (from a number or digits), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def iso_date(value):
    """Return the "YYYY-MM-DD" a date, timestamp or date interval starts with; "" for a partial date ("2024")."""
    match = _DATE.match(text(value))
    return match.group(1) if match else ""


def distinct(values):
    """Return the non-empty strings of `values`, first occurrence kept, as a tuple."""
    seen = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return tuple(seen)
