"""The MRI plugin on real volumes (../shared/data/mri, skipped with the path when absent):
NIfTI headers survive, normalisation inverts, the conformance kit passes, COIN and COIN++
code volumes through `inrz.Codec`, slice-wise baselines meet their budget, and missing
optional libraries say which extra to install.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from inrz import Codec, InrzError, MissingDependencyError, decode
from inrz_coinpp import artifacts
from inrz.testing import (check_config_round_trip, check_container_round_trip, check_metric, check_modality,
                          check_smoke_fit, check_spec, tiny_codec)

from .conftest import data_file

nib = pytest.importorskip("nibabel", reason="nibabel is not installed (pip install 'inrz[mri]')")

ANATOMICAL = ("mri", "nibabel_anatomical.nii")  # 33x41x25 int16, big-endian, 2 mm
EXAMPLE_4D = ("mri", "nibabel_example4d.nii.gz")  # 128x96x24x2 int16, oblique qform/sform
FLAIR = ("mri", "niivue_FLAIR.nii.gz")  # 124x160x140 uint8, oblique
T1 = ("mri", "niivue_chris_t1.nii.gz")  # 188x256x190 uint8


def mri(host, **settings):
    return host.create("modality", {"id": "mri", **settings})


# --- registration and configs --------------------------------------------------------------------
def test_plugin_registers_every_component(host):
    assert host.info["mri"].components == {
        "modality": ["mri"], "metric": ["psnr_norm"],
        "baseline": ["jpeg_slices", "jpeg2000_slices", "zstd_voxels", "sperr_volume", "jpegls_slices", "htj2k_slices",
                     "jpeg2000_lossless_slices", "nifti_gzip"]}


@pytest.mark.parametrize("kind,config", [
    ("modality", {"id": "mri", "clip_percentile": 99.9, "time": "grid", "max_shape": [8, 9, 10]}),
    ("baseline", {"id": "jpeg_slices", "axis": 0}), ("baseline", {"id": "jpeg2000_slices", "bits": 8}),
    ("baseline", {"id": "zstd_voxels", "level": 3}), ("metric", {"id": "psnr_norm"}),
    ("baseline", {"id": "sperr_volume"}), ("baseline", {"id": "jpegls_slices", "axis": 1}),
    ("baseline", {"id": "htj2k_slices", "lossless": True}), ("baseline", {"id": "jpeg2000_lossless_slices"}),
    ("baseline", {"id": "nifti_gzip", "level": 9})])
def test_config_round_trip(host, kind, config):
    check_config_round_trip(host.create(kind, config), host)


@pytest.mark.parametrize("config", [{"max_shape": [8, 8]}, {"max_shape": [0, 8, 8]}, {"time": "frames"},
                                    {"clip_percentile": 101}])
def test_modality_config_is_validated(host, config):
    with pytest.raises(InrzError):
        mri(host, **config)


# --- NIfTI files -----------------------------------------------------------------------------------
def nifti_essentials(path) -> dict:
    """What a viewer uses to place and read the voxels."""
    image = nib.load(str(path))
    h = image.header
    return {"affine": image.affine.tolist(), "qform": h.get_qform().tolist(),
            "qform_code": int(h["qform_code"]), "sform": h.get_sform().tolist(),
            "sform_code": int(h["sform_code"]), "zooms": h.get_zooms(), "units": h.get_xyzt_units(),
            "dtype": h.get_data_dtype().str, "shape": image.shape, "dim_info": h.get_dim_info()}


@pytest.mark.parametrize("parts,suffix", [(ANATOMICAL, ".nii"), (ANATOMICAL, ".nii.gz"), (EXAMPLE_4D, ".nii.gz")])
def test_nifti_round_trip_keeps_voxels_and_header(host, tmp_path, parts, suffix):
    path, modality = data_file(*parts), mri(host)
    signal = modality.load(path)
    out = tmp_path / f"out{suffix}"
    modality.save(signal, out)
    assert nifti_essentials(out) == nifti_essentials(path)
    np.testing.assert_array_equal(np.asanyarray(nib.load(str(out)).dataobj), np.asanyarray(nib.load(str(path)).dataobj))
    again = modality.load(out)
    assert again.meta == signal.meta and again.data.dtype == signal.data.dtype


def test_big_endian_int16_is_read_natively_and_written_big_endian(host, tmp_path):
    signal = mri(host).load(data_file(*ANATOMICAL))
    assert signal.data.dtype == np.int16 and signal.data.dtype.isnative and signal.data.shape == (33, 41, 25)
    assert signal.meta["disk_dtype"] == ">i2" and signal.meta["zooms"] == [2.0, 2.0, 2.0]
    assert signal.meta["affine"][0] == [-2.0, 0.0, 0.0, 32.0] and signal.meta["range"] == [-610, 30393]
    mri(host).save(signal, tmp_path / "be.nii")
    assert nib.load(str(tmp_path / "be.nii")).header.endianness == ">"


def test_nifti2_and_scaled_volumes_keep_stored_values_and_scaling(host, tmp_path):
    raw = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6) - 50
    affine = np.array([[0.5, 0, 0, -3], [0, 0.7, 0, 4], [0, 0, 1.5, 9], [0, 0, 0, 1]])
    image = nib.Nifti2Image(raw, affine)
    image.header.set_xyzt_units("mm", "sec")
    image.header["scl_slope"], image.header["scl_inter"] = 0.25, 10.0
    image.to_filename(str(tmp_path / "in.nii"))
    modality = mri(host)
    signal = modality.load(tmp_path / "in.nii")
    assert signal.meta["format"] == "nifti2" and (signal.meta["scl_slope"], signal.meta["scl_inter"]) == (0.25, 10.0)
    np.testing.assert_array_equal(signal.data, raw)  # stored values: the dtype survives
    modality.save(signal, tmp_path / "out.nii.gz")
    out = nib.load(str(tmp_path / "out.nii.gz"))
    assert isinstance(out, nib.Nifti2Image) and nifti_essentials(tmp_path / "out.nii.gz") == nifti_essentials(tmp_path / "in.nii")
    np.testing.assert_array_equal(out.get_fdata(), raw * 0.25 + 10.0)  # a viewer shows the same intensities


def test_crop_keeps_world_coordinates(host):
    path = data_file(*FLAIR)
    whole, crop = mri(host).load(path), mri(host, max_shape=[32, 40, 200]).load(path)
    start = [(124 - 32) // 2, (160 - 40) // 2, 0]
    assert crop.data.shape == (32, 40, 140)
    np.testing.assert_array_equal(crop.data, whole.data[start[0]:start[0] + 32, start[1]:start[1] + 40])
    image = nib.load(str(path))
    for name in ("get_qform", "get_sform"):
        original = getattr(image.header, name)() @ [*start, 1]
        cropped = getattr(nib.Nifti1Header, name)(_header(crop.meta)) @ [0, 0, 0, 1]
        np.testing.assert_allclose(cropped, original, atol=1e-4)


def _header(meta):
    header = nib.Nifti1Header()
    header.set_data_shape(meta["shape"])
    for name, value in meta["header"].items():
        header[name] = value.encode("latin-1") if isinstance(value, str) else value
    return header


def test_unreadable_or_unsupported_volumes_raise_inrz_errors(host, tmp_path):
    (tmp_path / "junk.nii").write_bytes(b"not a volume")
    for path in (tmp_path / "junk.nii", tmp_path / "missing.nii.gz"):
        with pytest.raises(InrzError, match="cannot read"):
            mri(host).load(path)
    for array, match in [(np.zeros((4, 4)), "3-D"), (np.zeros((4, 4, 4), complex), "integers or floats"),
                         (np.full((4, 4, 4), np.nan), "NaN")]:
        with pytest.raises(InrzError, match=match):
            mri(host).from_array(array)


# --- normalisation and 4-D -----------------------------------------------------------------------
def test_normalization_clips_at_the_percentile_and_inverts_below_it(host):
    modality = mri(host)
    signal = modality.load(data_file(*ANATOMICAL))
    features, norm = modality.to_features(signal)
    assert features.shape == (33, 41, 25, 1) and features.dtype == np.float32
    assert norm == {"lo": -610, "hi": int(np.percentile(signal.data, 99.99, method="higher"))}
    assert features.min() == 0.0 and features.max() == 1.0
    back = modality.from_features(features, signal.meta, norm).data
    below = signal.data <= norm["hi"]
    np.testing.assert_array_equal(back[below], signal.data[below])
    assert (back[~below] == norm["hi"]).all() and 0 < (~below).sum() <= 4  # the top 0.01% of 33,825 voxels
    exact = mri(host, clip_percentile=100)
    features, norm = exact.to_features(signal)
    assert norm == {"lo": -610, "hi": 30393}
    np.testing.assert_array_equal(exact.from_features(features, signal.meta, norm).data, signal.data)


def test_from_features_rounds_and_clamps_to_the_dtype(host):
    modality = mri(host)
    signal = modality.from_array(np.array([0, 10, 250, 255], np.uint8).reshape(1, 2, 2))
    features = np.array([-0.5, 0.02, 0.999, 1.7], np.float32).reshape(1, 2, 2, 1)
    out = modality.from_features(features, signal.meta, {"lo": 0, "hi": 255}).data
    assert out.dtype == np.uint8 and out.ravel().tolist() == [0, 5, 255, 255]


@pytest.mark.parametrize("time,grid,channels", [("channels", (16, 16, 8), 2), ("grid", (16, 16, 8, 2), 1)])
def test_four_d_time_as_channels_or_grid_axis(host, time, grid, channels):
    modality = mri(host, time=time, max_shape=[16, 16, 8])
    signal = modality.load(data_file(*EXAMPLE_4D))
    assert signal.data.shape == (16, 16, 8, 2) and modality.grid_shape(signal) == grid
    features, norm = modality.to_features(signal)
    assert features.shape == (*grid, channels)
    np.testing.assert_array_equal(modality.from_features(features, signal.meta, norm).data, signal.data)
    assert modality.coordinates(grid).shape == (*grid, len(grid))


# --- the conformance kit -------------------------------------------------------------------------
def test_conformance_on_a_real_file_and_the_example(host):
    check_modality(mri(host, clip_percentile=100), data_file(*ANATOMICAL))  # exact: no clipping
    example = check_modality(mri(host))  # example_signal(): 8^3 of nibabel's own test volume
    check_smoke_fit(mri(host), example, host)
    for metric in ("psnr", "psnr_norm"):
        check_metric(host.create("metric", metric), example, mri(host))
    check_container_round_trip(tiny_codec(mri(host), host, steps=5), example, host)


# --- COIN through inrz.Codec ---------------------------------------------------------------------
def test_coin_compress_decompress_writes_a_nifti_that_overlays_the_original(host, tmp_path):
    modality = mri(host, max_shape=[16, 16, 16])
    signal = modality.load(data_file(*T1))
    codec = Codec(modality, host.create("backend", {"id": "coin", "depth": 3, "width": 32, "steps": 150, "lr": 2e-3}),
                  host.create("quantizer", {"id": "uniform", "bits": 10}), host.create("entropy", "zstd"))
    encoded = codec.encode(signal)
    decoded = decode(encoded.data, host)
    assert decoded.header["norm"] == modality.to_features(signal)[1]
    modality.save(decoded.signal, tmp_path / "decoded.nii.gz")
    modality.save(signal, tmp_path / "original.nii.gz")
    assert nifti_essentials(tmp_path / "decoded.nii.gz") == nifti_essentials(tmp_path / "original.nii.gz")
    psnr = host.create("metric", "psnr").compute(signal, decoded.signal, modality)
    assert psnr > 20, psnr
    half = decode(encoded.data, host, scale=0.5).signal  # same field of view, voxels 15/7 as large
    modality.save(half, tmp_path / "half.nii.gz")
    image = nib.load(str(tmp_path / "half.nii.gz"))
    assert image.shape == (8, 8, 8) and image.get_data_dtype() == np.uint8
    np.testing.assert_allclose(image.header.get_zooms(), np.array(signal.meta["zooms"]) * 15 / 7, rtol=1e-6)
    np.testing.assert_allclose(image.affine[:, 3], np.array(signal.meta["affine"])[:, 3], atol=1e-4)  # voxel 0 stays


def test_nii_gz_files_pick_the_mri_modality(host):
    from inrz import modality_for_path

    assert modality_for_path("brain.nii.gz", host).id == modality_for_path("brain.NII", host).id == "mri"


# --- COIN++ ----------------------------------------------------------------------------------------
@pytest.mark.slow  # meta-training
def test_tiny_coinpp_train_and_encode(host, tmp_path, monkeypatch):
    """Meta-learn a tiny base network on 8^3 patches of two volumes, then code a third volume:
    the inner steps must fit it far better than the base network alone (zero latents)."""
    import torch

    from inrz_coinpp.config import TrainConfig
    from inrz_coinpp.data import TrainData
    from inrz_coinpp.loop import train

    modality = mri(host, max_shape=[24, 24, 24])
    volumes = [modality.to_features(modality.load(data_file(*parts)))[0] for parts in (ANATOMICAL, FLAIR)]
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[8, 8, 8], depth=3, width=32, latent_dim=16,
                      w0=30.0, steps=60, batch_size=8, outer_lr=1e-3, inner_lr=1e-1, val_every=30, val_patches=16,
                      checkpoint_every=60, stats_patches=128, quant_bits=[6])
    net = train(cfg, TrainData(volumes, volumes[1:], {"test": "mri"}), 0, torch.device("cpu"), tmp_path / "train",
                log=lambda m: None)
    monkeypatch.setenv(artifacts.MODELS_ENV, str(tmp_path / "models"))
    artifacts._load_cached.cache_clear()
    digest = artifacts.save(net)
    signal = modality.from_array(modality.load(data_file(*T1)).data[:16, :16, :16])  # held out: another scan
    psnr = {}
    for steps in (0, 10):
        codec = Codec(modality, host.create("backend", {"id": "coinpp", "model": digest, "inner_steps": steps,
                                                        "inner_lr": 1e-1}),
                      host.create("quantizer", {"id": "latent_uniform", "model": digest, "bits": 6}),
                      host.create("entropy", {"id": "table", "model": digest}))
        encoded = codec.encode(signal)
        out = decode(encoded.data, host).signal
        assert out.data.shape == (16, 16, 16) and out.data.dtype == np.uint8
        assert encoded.payload_bytes < 8 * 16 * 6 / 8 + 16  # 8 patches of 16 latents at 6 bits, range coded
        psnr[steps] = host.create("metric", "psnr_norm").compute(signal, out, modality)
    assert psnr[10] > psnr[0] + 3, psnr


# --- baselines ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def volume(host):
    return mri(host, max_shape=[32, 32, 24]).load(data_file(*T1))


def baseline(host, config):
    component = host.create("baseline", config)
    if reason := component.available():
        pytest.skip(f"{component.id} unavailable: {reason}")
    return component


@pytest.mark.parametrize("config", [{"id": "jpeg_slices"}, {"id": "jpeg2000_slices"}, {"id": "jpeg2000_slices", "bits": 8}])
def test_slice_baselines_at_size_fit_the_budget_and_improve_with_it(host, volume, config):
    codec, psnr = baseline(host, config), host.create("metric", "psnr_norm")
    results = [codec.at_size(volume, target) for target in (7_000, 12_000, 24_000)]
    for target, result in zip((7_000, 12_000, 24_000), results):
        assert len(result.data) <= target
        assert result.decoded.data.shape == volume.data.shape and result.decoded.data.dtype == np.uint8
    scores = [psnr.compute(volume, r.decoded, mri(host)) for r in results]
    assert scores == sorted(scores) and scores[0] > 15, scores


def test_slices_of_a_4d_volume_round_trip(host):
    from inrz_mri.baselines import from_slices, slice_axis, to_slices

    data = np.arange(5 * 6 * 4 * 3).reshape(5, 6, 4, 3)
    axis = slice_axis(data.shape, None)
    assert axis == 2 and to_slices(data, axis).shape == (4 * 3, 5, 6)
    np.testing.assert_array_equal(from_slices(to_slices(data, 0), data.shape, 0), data)
    np.testing.assert_array_equal(from_slices(to_slices(data, axis), data.shape, axis), data)


def test_zstd_voxels_is_lossless_whatever_the_target(host):
    signal = mri(host).load(data_file(*ANATOMICAL))
    result = baseline(host, "zstd_voxels").at_size(signal, 10)
    np.testing.assert_array_equal(result.decoded.data, signal.data)
    assert result.decoded.data.dtype == np.int16 and len(result.data) < signal.data.nbytes


# --- optional libraries --------------------------------------------------------------------------
def test_missing_nibabel_names_the_extra(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "nibabel", None)  # import nibabel -> ImportError
    with pytest.raises(MissingDependencyError, match=r"inrz\[mri\]"):
        mri(host).load(data_file(*ANATOMICAL))
    assert "inrz[mri]" in host.registry.get("modality", "mri").available()


def test_missing_h5py_names_the_extra(host, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(MissingDependencyError, match=r"inrz\[mri\]"):
        mri(host).load(tmp_path / "file_brain_AXT2_200_1.h5")


def test_fastmri_h5_round_trip(host, tmp_path):
    h5py = pytest.importorskip("h5py", reason="h5py is not installed (FastMRI reader)")
    rss = np.random.default_rng(0).gamma(2.0, 1e-4, (4, 12, 10)).astype(np.float32)
    with h5py.File(tmp_path / "vol.h5", "w") as f:
        f.create_dataset("reconstruction_rss", data=rss)
        f.create_dataset("kspace", data=np.zeros((4, 2, 2), np.complex64))
        f.attrs.update({"acquisition": "AXT2", "max": float(rss.max()), "patient_id": "x"})
    modality = mri(host)
    signal = modality.load(tmp_path / "vol.h5")
    assert signal.meta["format"] == "fastmri" and signal.meta["attrs"]["acquisition"] == "AXT2"
    np.testing.assert_array_equal(signal.data, rss)
    modality.save(signal, tmp_path / "out.h5")
    assert modality.load(tmp_path / "out.h5").meta == signal.meta
    modality.save(signal, tmp_path / "out.nii.gz")  # a viewer-friendly copy, identity affine
    np.testing.assert_array_equal(nib.load(str(tmp_path / "out.nii.gz")).get_fdata(), rss)
    with pytest.raises(InrzError, match="reconstruction_esc"):
        mri(host, h5_key="reconstruction_esc").load(tmp_path / "vol.h5")


# --- specs ----------------------------------------------------------------------------------------
def test_cpu_spec_builds_and_paper_spec_validates(host):
    from pathlib import Path

    from inrz.runs.spec import load_spec

    specs = Path(__file__).resolve().parents[1] / "specs"
    data_file("mri")
    check_spec(specs / "mri-cpu.yaml", host)
    spec = load_spec(specs / "fastmri.yaml", host=host)
    assert spec.train["patch"] == [16, 16, 16] and spec.modality["id"] == "mri"
