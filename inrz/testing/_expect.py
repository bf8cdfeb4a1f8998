"""One way to fail a conformance check: what is wrong, then what to do about it."""
from __future__ import annotations

import json
from typing import Any


def expect(ok: bool, subject: str, problem: str, fix: str) -> None:
    """Raise `AssertionError("<subject>: <problem>\\n  fix: <fix>")` unless `ok`."""
    if not ok:
        raise AssertionError(f"{subject}: {problem}\n  fix: {fix}")


def json_round_trip(value: Any, subject: str, what: str) -> Any:
    """`value` as a container header would give it back; fails if JSON changes or rejects it."""
    try:
        back = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{subject}: {what} is not JSON-serialisable ({exc})\n  fix: use only str keys, "
                             "lists, str, int, finite float, bool and None (convert numpy scalars with .item(), "
                             "arrays with .tolist())") from exc
    expect(back == value, subject, f"{what} changes in a JSON round trip: {value!r} -> {back!r}",
           "use lists instead of tuples and str keys, so the decoder sees exactly what the encoder wrote")
    return back


def name(component: Any) -> str:
    """`modality 'ndarray'`: how messages name a component."""
    return f"{getattr(component, 'kind', '') or type(component).__name__} {getattr(component, 'id', '')!r}"
