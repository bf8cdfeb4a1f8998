"""Golden archive chunks (tests/golden/archive): every chunk an earlier version wrote decodes
to the same values forever, through the numcodecs codec as a zarr reader would call it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inrz.archive.config import decode_array

GOLDEN = Path(__file__).parent / "golden" / "archive"
INDEX = json.loads((GOLDEN / "index.json").read_text())


def residual_head(data: bytes) -> tuple[int, int] | None:
    """(tag, predictor kind) of an error-bounded frame's residual section (kind 4), else None."""
    from inrz.archive import frames

    if data[0] != frames.RESIDUAL:
        return None
    _, dtype, _, pos = frames._head(data)
    pos += 8 + dtype.itemsize
    _, pos = frames._read_uvarint(data, pos)  # exceptions
    _, pos = frames._read_uvarint(data, pos)  # residual length
    return data[pos], data[pos + 1]


@pytest.mark.parametrize("name", sorted(INDEX))
def test_golden_chunk_decodes_to_the_stored_values(name):
    meta = INDEX[name]
    data = (GOLDEN / f"{name}.bin").read_bytes()
    expected = np.load(GOLDEN / f"{name}.npy")
    assert list(expected.shape) == meta["shape"] and expected.dtype.str == meta["dtype"]
    out = decode_array(data, expected.size, expected.dtype)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    assert out.tobytes() == expected.tobytes()  # bit for bit, NaN and Inf included
    for tag in (0x11, 0x12, 0x13, 0x14):
        if f".r{tag:x}" in name:
            assert residual_head(data)[0] == tag


@pytest.mark.parametrize("tag", ["r11", "r12"])
def test_the_golden_set_covers_both_predictor_families(tag):
    kinds = {residual_head((GOLDEN / f"{name}.bin").read_bytes())[1] for name in INDEX if f".{tag}" in name}
    assert kinds & {0, 1} and 2 in kinds  # an interpolation (cubic/linear) and Lorenzo


def test_every_golden_chunk_names_its_path():
    from inrz.archive.frames import path

    names = {name: path((GOLDEN / f"{name}.bin").read_bytes()) for name in INDEX}
    assert names["constant"] == "constant" and names["zstd_tiny"] == "raw"
    assert names["t2m_3d_b0.01.r11"] == names["t2m_3d_b0.01.r12"] == "residual/lorenzo"
    assert all(p.startswith("residual/") for n, p in names.items() if ".r1" in n)
    assert names["planes_b0.2.r12"] == "residual/cubic-planes"  # each plane of the leading axis on its own
    assert names["t2m_3d_b0.5.r13"] == "residual/linear-tuned"  # level-wise steps
    assert names["planes_b2.5.r13"] == "residual/linear-planes-tuned"
    assert names["t2m_3d_b0.2.r14"] == names["planes_b0.05.r14"] == "residual/multidim"
