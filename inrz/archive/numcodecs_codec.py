"""A numcodecs codec (`id="inrz"`), registered through the `numcodecs.codecs` entry point:

    numcodecs.get_codec({"id": "inrz", "max_abs_error": 0.1})

Settings are those of `inrz.archive.config.ArchiveConfig`; `get_config()` is plain JSON.
Any chunk is valid (`inrz.archive.chunks`): a chunk decodes to its own shape and dtype, and
into an `out=` buffer only if that has as many values of the same type (nothing reinterpreted).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..core.errors import require
from .config import canonical, decode_array, encode_array

_abc = require("numcodecs.abc", "archive")
_compat = require("numcodecs.compat", "archive")


class InrzCodec(_abc.Codec):
    codec_id = "inrz"

    def __init__(self, **config: Any):
        self._config_json = canonical(config)
        for key, value in json.loads(self._config_json).items():
            setattr(self, key, value)  # numcodecs derives get_config() and repr from attributes

    def get_config(self) -> dict[str, Any]:
        return {"id": self.codec_id, **json.loads(self._config_json)}

    def encode(self, buf) -> bytes:
        return encode_array(np.asarray(_compat.ensure_ndarray_like(buf)), self._config_json)

    def decode(self, buf, out=None):
        if out is None:
            return decode_array(_compat.ensure_bytes(buf))
        target = _compat.ensure_ndarray_like(out)
        array = decode_array(_compat.ensure_bytes(buf), target.size, target.dtype)
        return _compat.ndarray_copy(array.astype(target.dtype, copy=False), out)  # byte order only: values copied
