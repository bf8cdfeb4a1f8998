"""The image plugin's PNG writer (`inrz_image.png`): every array it takes reads back exactly
through two independent decoders (Pillow, libpng via imagecodecs), and on a real image it is no
larger than Pillow's encoder at the same zlib level."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.conftest import data_file

Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install 'inrz[image]')")
imagecodecs = pytest.importorskip("imagecodecs", reason="imagecodecs is not installed (pip install 'inrz[image]')")
png = pytest.importorskip("inrz_image.png", reason="the image plugin is not installed")


def _read_libpng(data: bytes) -> np.ndarray:
    out = imagecodecs.png_decode(data)
    return out[..., None] if out.ndim == 2 else out


arrays = st.tuples(st.sampled_from([np.uint8, np.uint16]), st.integers(1, 4), st.integers(1, 40),
                   st.integers(1, 40)).flatmap(
    lambda t: hnp.arrays(t[0], (t[2], t[3], t[1]), elements=st.integers(0, np.iinfo(t[0]).max)))


@settings(max_examples=60, deadline=None)
@given(arrays)
def test_every_array_reads_back_exactly(a):
    data = png.encode(a)
    assert np.array_equal(_read_libpng(data), a)
    if a.dtype == np.uint8 or a.shape[2] == 1:  # Pillow reads 16-bit grey, not 16-bit colour, as numbers
        back = np.asarray(Image.open(io.BytesIO(data)))
        assert np.array_equal(back.reshape(a.shape).astype(a.dtype), a)


def test_rows_past_a_band_see_the_row_above(monkeypatch):
    """Filtering runs in bands of rows: the first row of a band is filtered against the last of
    the previous one (Up / Average / Paeth), so the file is the same whatever the band."""
    a = (np.arange(300)[:, None, None] * 3 + np.arange(5)[None, :, None] + np.zeros(3)).astype(np.uint8)
    whole = png.encode(a)
    monkeypatch.setattr(png, "BAND_BYTES", 2 * 15)  # two rows of 5 x 3 bytes per band
    assert png.encode(a) == whole and np.array_equal(_read_libpng(whole), a)


def test_no_larger_than_pillow_on_a_real_image():
    image = np.asarray(Image.open(data_file("kodak", "kodim01.png")).convert("RGB"))
    ours = png.encode(image)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")  # zlib level 6, adaptive filters
    assert np.array_equal(_read_libpng(ours), image)
    assert len(ours) <= 1.01 * len(buffer.getvalue())


@pytest.mark.parametrize("bad", [np.zeros((2, 2, 5), np.uint8), np.zeros((2, 2, 3), np.float32),
                                 np.zeros((0, 2, 3), np.uint8), np.zeros((4, 4), np.uint8)])
def test_arrays_png_cannot_hold_are_refused(bad):
    with pytest.raises(ValueError, match="PNG stores"):
        png.encode(bad)


def test_the_modality_writes_pngs_through_it(tmp_path):
    from inrz import get_host
    from inrz.signal.modality import Signal

    modality = get_host().create("modality", "image")
    a = np.random.default_rng(0).integers(0, 256, (9, 7, 4), dtype=np.uint8)
    modality.save(Signal(a, {}), tmp_path / "x.png")
    assert (tmp_path / "x.png").read_bytes() == png.encode(a)
    assert np.array_equal(modality.load(tmp_path / "x.png").data, a)
    assert not [p for p in tmp_path.iterdir() if p.name != "x.png"]  # the atomic write left no temp file
