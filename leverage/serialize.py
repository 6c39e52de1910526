"""(Un)structuring of the model's value classes with one private cattrs converter.

``unstructure`` turns parties, relationships, impacts and their records into plain JSON
values (dates as ISO text; ``Step.with_`` as ``with``); ``structure`` builds them back,
refusing extra keys and naming the path of a bad field (``$.severity.scale``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import model
from .errors import ValidationError

T = TypeVar("T")

_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_unstructure_hook(datetime, lambda d: d.isoformat().replace("+00:00", "Z"))
_converter.register_structure_hook(
    datetime, lambda v, _: datetime.fromisoformat(v.replace("Z", "+00:00"))
)
_converter.register_unstructure_hook(date, lambda d: d.isoformat())
_converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))

_converter.register_unstructure_hook(
    model.Step,
    make_dict_unstructure_fn(model.Step, _converter, with_=override(rename="with")),
)
_converter.register_structure_hook(
    model.Step,
    make_dict_structure_fn(model.Step, _converter, with_=override(rename="with"),
                           _cattrs_forbid_extra_keys=True),
)


def unstructure(value: Any) -> Any:
    """Plain JSON values for a model object (or a list/dict of them)."""
    return _converter.unstructure(value)


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from plain values; raise :class:`ValidationError` naming the bad path."""
    try:
        return _converter.structure(data, cls)
    except Exception as exc:
        messages = cattrs.transform_error(exc) if isinstance(exc, cattrs.BaseValidationError) \
            else [str(exc)]
        first = messages[0] if messages else str(exc)
        raise ValidationError(first) from None
