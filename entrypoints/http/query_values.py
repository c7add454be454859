"""A query parameter that takes one value, given several times, is refused (400), not guessed at.

Litestar would bind one of the values and drop the rest silently: `?objectName=a&objectName=b`
listed the jobs of one of them. Parameters declared as lists (`state`, repeated or
comma-separated) still take every value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.params import (BodyKwarg, CookieParameter, DependencyKwarg, HeaderParameter,
                             ParameterKwarg, PathParameter)


def refuse_repeated_query_values(request: Request) -> None:
    repeated = [name for name in request.query_params.keys()
                if len(request.query_params.getall(name)) > 1]
    if not repeated:
        return
    single = _single_valued_query_names(request.route_handler)
    refused = sorted(name for name in repeated if name in single)
    if refused:
        raise ValidationException(
            detail=f"query parameter {refused[0]!r} takes one value; it was given "
                   f"{len(request.query_params.getall(refused[0]))} times")


@cache
def _single_valued_query_names(handler: Any) -> frozenset[str]:
    """The query names of the handler's parameters that bind one value."""
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, (BodyKwarg, DependencyKwarg, CookieParameter, HeaderParameter,
                              PathParameter)):
            continue
        if isinstance(kwarg, ParameterKwarg):
            if kwarg.header or kwarg.cookie:
                continue
            name = kwarg.query or getattr(kwarg, "name", None) or name
        sequence = field.is_non_string_sequence or any(
            inner.is_non_string_sequence for inner in field.inner_types)
        if not sequence:
            names.add(name)
    return frozenset(names)
