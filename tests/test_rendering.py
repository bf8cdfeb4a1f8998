"""Region and scale renderings carry the geometry of what they show, checked against the full
decode of the same file: a NIfTI crop overlays the original (issue 13, friction 5), a climate
crop has the lat/lon of its cells, an audio excerpt its start time and a finer render its rate."""
from __future__ import annotations

import numpy as np
import pytest

from inrz import Codec, decode
from inrz.cli.main import main

from .conftest import data_file


def tiny(host, modality):
    """A 2 x 16 SIREN fitted for two steps: geometry does not depend on how well it fits."""
    return Codec(modality, host.create("backend", {"id": "coin", "depth": 2, "width": 16, "steps": 2}),
                 host.create("quantizer", "fp16"), host.create("entropy", "zstd"))


def encoded_volume(host, tmp_path, name: str):
    pytest.importorskip("nibabel")
    path = data_file("mri", name)
    modality = host.create("modality", "mri")
    out = tmp_path / "volume.inrz"
    out.write_bytes(tiny(host, modality).encode(modality.load(path)).data)
    return path, out


MNI = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
VOLUMES = [  # (file, region, start voxel, zooms, origin of the crop in mm or None)
    ("nibabel_anatomical.nii", "5:25,10:30,4:20", (5, 10, 4), (2.0, 2.0, 2.0), None),
    pytest.param(MNI, "50:100,60:120,40:90", (50, 60, 40), (1.0, 1.0, 1.0), (-48.0, -74.0, -32.0),
                 marks=pytest.mark.slow),  # the example: 8.7 million voxels decoded twice
]


@pytest.mark.parametrize("name, region, start, zooms, origin", VOLUMES)
def test_an_mri_region_overlays_the_full_decode(host, tmp_path, name, region, start, zooms, origin):
    """`--region 50:100,60:120,40:90` on the MNI template gave zooms (4.0, 3.93, 3.84) and origin
    (-98, -134, -72): now 1 mm voxels and the origin of voxel (50, 60, 40), (-48, -74, -32)."""
    nib = pytest.importorskip("nibabel")
    source, container = encoded_volume(host, tmp_path, name)
    trusted = ["--trusted"]  # a tiny network for 8.7 M voxels: more values per byte than the default limits allow
    assert main(["decompress", str(container), "-o", str(tmp_path / "full.nii.gz"), *trusted]) == 0
    assert main(["decompress", str(container), "-o", str(tmp_path / "crop.nii.gz"), "--region", region, *trusted]) == 0
    full, crop = nib.load(tmp_path / "full.nii.gz"), nib.load(tmp_path / "crop.nii.gz")
    np.testing.assert_allclose(full.affine, nib.load(source).affine, atol=1e-5)
    lo, hi = zip(*(tuple(map(int, part.split(":"))) for part in region.split(",")))
    assert crop.shape == tuple(b - a for a, b in zip(lo, hi))
    np.testing.assert_allclose(crop.header.get_zooms()[:3], zooms)
    if origin is not None:
        np.testing.assert_allclose(crop.affine[:3, 3], origin)
    np.testing.assert_allclose(crop.affine, full.affine @ _translation(*start), atol=1e-5)
    for form in ("qform", "sform"):  # both, so every viewer places it
        expected = getattr(full, f"get_{form}")() @ _translation(*start)
        np.testing.assert_allclose(getattr(crop, f"get_{form}")(), expected, atol=1e-4)
    window = tuple(slice(a, b) for a, b in zip(lo, hi))
    voxels = np.asarray(full.dataobj)[window].astype(int) - np.asarray(crop.dataobj).astype(int)
    assert np.abs(voxels).max() <= 1  # the same network at the same points (float rounding aside)


def test_an_mri_render_at_another_scale_keeps_the_field_of_view(host, tmp_path):
    _, container = encoded_volume(host, tmp_path, "nibabel_anatomical.nii")
    full = decode(container.read_bytes(), host)
    half = decode(container.read_bytes(), host, scale=0.5, region=[(0, 33), (0, 41), (0, 25)])
    affine, half_affine = np.array(full.signal.meta["affine"]), np.array(half.signal.meta["affine"])
    corner = np.array([32, 40, 24, 1.0])  # the last rendered voxel sits on the last native voxel
    last = np.array([s - 1 for s in half.signal.data.shape] + [1.0])
    np.testing.assert_allclose(half_affine @ last, affine @ corner, atol=1e-4)
    np.testing.assert_allclose(half_affine[:3, 3], affine[:3, 3], atol=1e-5)


def _translation(*voxels: float) -> np.ndarray:
    out = np.eye(4)
    out[:3, 3] = voxels
    return out


def test_a_climate_region_has_the_coordinates_of_its_cells(host, tmp_path):
    xr = pytest.importorskip("xarray")
    modality = host.create("modality", {"id": "climate", "time_index": 0})
    signal = modality.load(data_file("climate", "era5_t2m_2019-03_uk.nc"))
    data = tiny(host, modality).encode(signal).data
    (tmp_path / "t.inrz").write_bytes(data)
    assert main(["decompress", str(tmp_path / "t.inrz"), "-o", str(tmp_path / "full.nc")]) == 0
    assert main(["decompress", str(tmp_path / "t.inrz"), "-o", str(tmp_path / "crop.nc"), "--region", "5:20,10:30"]) == 0
    with xr.open_dataset(tmp_path / "full.nc") as full, xr.open_dataset(tmp_path / "crop.nc") as crop:
        np.testing.assert_allclose(crop["latitude"].values, full["latitude"].values[5:20])
        np.testing.assert_allclose(crop["longitude"].values, full["longitude"].values[10:30])
        np.testing.assert_allclose(crop["t2m"].values, full["t2m"].values[:, 5:20, 10:30], atol=1e-3)
        assert crop["t2m"].attrs["units"] == "K"


def test_an_audio_excerpt_starts_where_it_was_cut_and_a_finer_render_doubles_the_rate(host):
    pytest.importorskip("soundfile")
    modality = host.create("modality", {"id": "audio", "first_seconds": 1.0})
    signal = modality.load(data_file("audio", "librispeech_1272-141231-0002.flac"))
    data = tiny(host, modality).encode(signal).data
    full = decode(data, host).signal
    part = decode(data, host, region=[(4000, 12000)]).signal
    assert part.meta["start_seconds"] == pytest.approx(0.25) and part.meta["samplerate"] == 16000
    assert part.data.shape == (8000, 1)
    assert np.abs(part.data.astype(int) - full.data[4000:12000].astype(int)).max() <= 2
    fine = decode(data, host, scale=2).signal
    assert fine.meta["samplerate"] == 32000 and fine.data.shape[0] == 32000  # one second at twice the rate
    assert "start_seconds" not in fine.meta
