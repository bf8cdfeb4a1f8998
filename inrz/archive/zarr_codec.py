"""A zarr v3 array-to-bytes codec named `inrz`, registered through the `zarr.codecs` entry point:

    zarr.create_array(store, shape=..., chunks=..., dtype="float32",
                      serializer=InrzZarrCodec(max_abs_error=0.1))

Each chunk becomes one self-contained `.inrz` container.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import require
from .config import canonical, decode_array, encode_array

_codec_abc = require("zarr.abc.codec", "archive")


@dataclass(frozen=True)
class InrzZarrCodec(_codec_abc.ArrayBytesCodec):
    is_fixed_size = False
    config_json: str = ""

    def __init__(self, **config: Any) -> None:
        object.__setattr__(self, "config_json", canonical(config))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InrzZarrCodec":
        return cls(**data.get("configuration", {}))

    def to_dict(self) -> dict[str, Any]:
        return {"name": "inrz", "configuration": json.loads(self.config_json)}

    async def _encode_single(self, chunk_array, chunk_spec):
        data = encode_array(np.asarray(chunk_array.as_ndarray_like()), self.config_json)
        return chunk_spec.prototype.buffer.from_bytes(data)

    async def _decode_single(self, chunk_bytes, chunk_spec):
        array = decode_array(chunk_bytes.to_bytes())
        dtype = chunk_spec.dtype.to_native_dtype()
        return chunk_spec.prototype.nd_buffer.from_ndarray_like(array.astype(dtype).reshape(chunk_spec.shape))

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        raise NotImplementedError("inrz chunks vary in size")
