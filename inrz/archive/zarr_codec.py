"""A zarr v3 array-to-bytes codec named `inrz`, registered through the `zarr.codecs` entry point:

    zarr.create_array(store, shape=..., chunks=..., dtype="float32",
                      serializer=InrzZarrCodec(max_abs_error=0.1))

Each chunk becomes one self-contained frame or `.inrz` container (`inrz.archive.chunks`).
Coding runs in a worker thread (`asyncio.to_thread`, as zarr's own codecs do), never on
zarr's event loop, so chunks are coded concurrently. The array's fill value, which zarr pads
edge chunks with, is kept exactly like NaN. A batch of chunks (zarr's
`codec_pipeline.batch_size`) is coded in one call, so chunks of one shape are fitted together.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import require
from .config import canonical, decode_array, encode_arrays

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

    async def encode(self, chunks_and_specs):
        items = list(chunks_and_specs)
        out: list[Any] = [None] * len(items)
        groups: dict[tuple, list[int]] = {}
        for i, (chunk, spec) in enumerate(items):
            if chunk is not None:
                groups.setdefault(_fill_values(spec), []).append(i)
        for fills, members in groups.items():
            arrays = [np.asarray(items[i][0].as_ndarray_like()) for i in members]
            coded = await asyncio.to_thread(encode_arrays, arrays, self.config_json, fills)
            for i, data in zip(members, coded):
                out[i] = items[i][1].prototype.buffer.from_bytes(data)
        return out

    async def _encode_single(self, chunk_array, chunk_spec):
        return (await self.encode([(chunk_array, chunk_spec)]))[0]

    async def _decode_single(self, chunk_bytes, chunk_spec):
        dtype = chunk_spec.dtype.to_native_dtype()
        array = await asyncio.to_thread(decode_array, chunk_bytes.to_bytes(), int(np.prod(chunk_spec.shape)), dtype)
        return chunk_spec.prototype.nd_buffer.from_ndarray_like(array.astype(dtype).reshape(chunk_spec.shape))

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        raise NotImplementedError("inrz chunks vary in size")


def _fill_values(spec) -> tuple[float, ...]:
    """The array's fill value, if it is a number (NaN is always kept exactly anyway)."""
    value = spec.fill_value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ()
    return () if np.isnan(number) or isinstance(value, (bool, np.bool_)) else (number,)
