"""The base class of every pluggable part, shaped like numcodecs' `Codec`.

A component MUST define:
- `kind`: which registry it belongs to, and `hook`: the plugin hook that registers it (both set
  by the kind's abstract base, e.g. `Modality`: "modality", "register_modalities");
- `id`: a stable name, unique within its kind, written into specs and container headers;
- `Config`: a pydantic model (``extra="forbid"``) holding every setting; defaults are the
  documented defaults.

Equality, hashing and repr derive from `(id, config)`, so a container header that stores
`get_config()` rebuilds an equal component with `from_config()` and no YAML.

A component MAY override the classmethod `available()` to return why it cannot run here
(a missing optional library, a codec its library was built without); `inrz plugins --all`
shows that reason. It must be cheap and must not raise.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import SpecError


class ComponentConfig(BaseModel):
    """Base for component configs: unknown keys are errors, values are validated on assignment,
    and floats are finite (a header's 1e999 parses as infinity; no setting means that)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True, allow_inf_nan=False, defer_build=True)


class Component:
    kind: ClassVar[str] = ""
    hook: ClassVar[str] = ""  # the hook that registers the kind (`register_backends`), also set by the kind's base
    id: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig

    def __init__(self, config: dict[str, Any] | ComponentConfig | None = None, **overrides: Any):
        if isinstance(config, ComponentConfig):
            config = config.model_dump()
        values = {**(config or {}), **overrides}
        values.pop("id", None)
        try:
            self.config = self.Config.model_validate(values)
        except ValidationError as exc:
            raise SpecError(format_validation_error(exc, prefix=f"{self.kind} {self.id!r}")) from exc

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable config, `id` first."""
        return {"id": self.id, **self.config.model_dump(mode="json")}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Component":
        return cls(config)

    @classmethod
    def available(cls) -> str | None:
        """None if this component can run here, else the reason (e.g. `inrz.missing(...)`)."""
        return None

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(json.dumps(self.get_config(), sort_keys=True))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.model_dump().items())
        return f"{type(self).__name__}({args})"


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per pydantic error: `field.path: message`."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        lines.append(f"{prefix + ': ' if prefix else ''}{path or '<root>'}: {err['msg']}")
    return "\n".join(lines)
