"""Query-string filters of the list endpoints: a value that is not valid is refused with 400
naming the parameter, never ignored (an ignored filter answers the wrong list) and never
passed to the database unchecked (an id past 64 bits overflows it; RELIABILITY B15).

Each ``*_parameter`` builds the OpenAPI description of the filter its ``query_*`` reads, so
the schema and the check cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from api.converters import ID_MAX

TRUE, FALSE = ("true", "1"), ("false", "0")


def _raw(request, name: str) -> str | None:
    value = request.query_params.get(name)
    return None if value in (None, "") else value


def query_id(request, name: str) -> int | None:
    """The id in ``?name=``, or None when absent."""
    value = _raw(request, name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 19
            and 1 <= int(value) <= ID_MAX):
        raise ValidationError({name: [f"Expected an id (a whole number from 1 to {ID_MAX}), "
                                      f"got '{value[:40]}'."]})
    return int(value)


def query_choice(request, name: str, choices: Iterable[str]) -> str | None:
    value = _raw(request, name)
    choices = list(choices)
    if value is not None and value not in choices:
        raise ValidationError({name: [f"'{value[:40]}' is not one of: {', '.join(choices)}."]})
    return value


def query_text(request, name: str, *, max_length: int = 200) -> str | None:
    value = _raw(request, name)
    if value is not None and len(value) > max_length:
        raise ValidationError({name: [f"At most {max_length} characters."]})
    if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in any string
        raise ValidationError({name: ["Null characters are not allowed."]})
    return value


def query_bool(request, name: str) -> bool | None:
    value = _raw(request, name)
    if value is None:
        return None
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ValidationError({name: [f"Expected true or false, got '{value[:40]}'."]})


def id_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                            description=description)


def choice_parameter(name: str, choices: Iterable[str], description: str = "") -> OpenApiParameter:
    return OpenApiParameter(name, str, enum=list(choices), description=description)


def text_parameter(name: str, description: str, *, max_length: int = 200) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "maxLength": max_length},
                            description=description)


def bool_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, bool, description=description)
