"""The audio plugin on real recordings (../shared/data/audio): bit-exact file round trips in
every native dtype, the paper's feature/coordinate/PSNR conventions, COIN and COIN++ through
the codec, MP3/Opus/Vorbis/FLAC baselines, and the LibriSpeech dataset offline.

Tests needing a file skip with the path they looked for when it is absent.
"""
from __future__ import annotations

import io
import math
import sys
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from inrz import Codec, DatasetError, InrzError, MissingDependencyError, decode
from inrz.testing import (check_config_round_trip, check_container_round_trip, check_metric, check_modality,
                          check_smoke_fit, check_spec, tiny_codec)

from .conftest import data_file

sf = pytest.importorskip("soundfile", reason="soundfile is not installed (pip install 'inrz[audio]')")

WAV = ("audio", "librispeech_1995-1837-0001.wav")
FLAC = ("audio", "librispeech_2412-153948-0000.flac")
JFK = ("audio", "jfk_inaugural_excerpt.flac")  # 44.1 kHz stereo 24-bit
OGG = ("audio", "librispeech_198-209-0000.ogg")
LJ = ("audio", "ljspeech_LJ002-0020.wav")  # 22.05 kHz: not an Opus rate
SPECS = Path(__file__).resolve().parents[1] / "specs"


@pytest.fixture(scope="module")
def modality(host):
    return host.create("modality", "audio")


def crop(modality, parts, seconds: float = 0.25, start: float = 1.0):
    """A short real excerpt rebuilt with from_array (keeps rate, subtype and format)."""
    signal = modality.load(data_file(*parts))
    rate = signal.meta["samplerate"]
    data = signal.data[int(start * rate): int((start + seconds) * rate)]
    return modality.from_array(data, {k: signal.meta[k] for k in ("samplerate", "subtype", "format")})


# --- registration and configs ------------------------------------------------------------------
def test_plugin_registers_every_component(host):
    assert host.info["audio"].components == {"modality": ["audio"], "dataset": ["librispeech"],
                                              "baseline": ["mp3", "opus", "vorbis", "flac"], "metric": ["snr"]}


@pytest.mark.parametrize("kind,config", [("modality", {"id": "audio", "coord_scale": 2.0, "first_seconds": 3}),
                                         ("dataset", {"id": "librispeech", "limit": 4}), ("metric", {"id": "snr"}),
                                         ("baseline", {"id": "mp3", "bitrate_mode": "VARIABLE"}),
                                         ("baseline", {"id": "opus"}), ("baseline", {"id": "flac", "level": 0.5})])
def test_config_round_trip(host, kind, config):
    check_config_round_trip(host.create(kind, config), host)


# --- files -------------------------------------------------------------------------------------
@pytest.mark.parametrize("parts,shape,meta", [
    (WAV, (139680, 1), {"samplerate": 16000, "channels": 1, "subtype": "PCM_16", "format": "WAV", "dtype": "int16"}),
    (FLAC, (186560, 1), {"samplerate": 16000, "channels": 1, "subtype": "PCM_16", "format": "FLAC", "dtype": "int16"}),
    (JFK, (485100, 2), {"samplerate": 44100, "channels": 2, "subtype": "PCM_24", "format": "FLAC", "dtype": "int32"}),
])
def test_load_save_round_trip_is_bit_exact(modality, tmp_path, parts, shape, meta):
    path = data_file(*parts)
    signal = modality.load(path)
    assert signal.data.shape == shape and signal.meta == {**meta, "frames": shape[0]}
    out = tmp_path / f"out{path.suffix}"
    modality.save(signal, out)
    assert sf.info(str(out)).subtype == meta["subtype"] and sf.info(str(out)).samplerate == meta["samplerate"]
    for dtype in ("int32", "float64"):  # what any reader sees, not only our own loader
        np.testing.assert_array_equal(sf.read(str(out), dtype=dtype)[0], sf.read(str(path), dtype=dtype)[0])
    again = modality.load(out)
    np.testing.assert_array_equal(again.data, signal.data)
    assert again.meta == signal.meta


def test_24_bit_samples_keep_their_own_range(modality):
    signal = modality.load(data_file(*JFK))
    raw = sf.read(str(data_file(*JFK)), dtype="int32", frames=1000)[0]
    np.testing.assert_array_equal(signal.data[:1000], raw >> 8)
    assert -2**23 <= signal.data.min() and signal.data.max() < 2**23 and modality.peak(signal.meta) == 2**24


def test_ogg_vorbis_loads_as_float32(modality, tmp_path):
    signal = modality.load(data_file(*OGG))
    assert signal.data.dtype == np.float32 and signal.data.shape == (222561, 1)
    assert signal.meta["subtype"] == "VORBIS" and signal.meta["format"] == "OGG"
    modality.save(signal, tmp_path / "out.wav")  # a lossy source written where VORBIS cannot go: float WAV
    assert sf.info(str(tmp_path / "out.wav")).subtype == "FLOAT"
    np.testing.assert_array_equal(modality.load(tmp_path / "out.wav").data, signal.data)


def test_first_seconds_reads_the_start_only(host):
    modality = host.create("modality", {"id": "audio", "first_seconds": 3})
    signal = modality.load(data_file(*WAV))
    assert signal.data.shape == (48000, 1) and signal.meta["frames"] == 48000
    np.testing.assert_array_equal(signal.data[:, 0], sf.read(str(data_file(*WAV)), dtype="int16", frames=48000)[0])
    assert modality.seconds(signal.meta) == 3.0 and modality.kbps(6000, signal.meta) == 16.0


def test_unreadable_files_raise_audio_errors(modality, tmp_path):
    (tmp_path / "junk.wav").write_bytes(b"RIFF not audio")
    for name in ("junk.wav", "missing.flac"):
        with pytest.raises(InrzError, match="cannot read audio"):
            modality.load(tmp_path / name)


# --- arrays, features, coordinates, metrics ------------------------------------------------------
@pytest.mark.parametrize("array,meta,match", [
    (np.zeros(8, np.int16), {}, "samplerate"),
    (np.zeros(8, np.uint8), {"samplerate": 8000}, "dtype int16, int32"),
    (np.zeros((2, 3, 4), np.float32), {"samplerate": 8000}, "frames, channels"),
    (np.full(8, 2**23, np.int32), {"samplerate": 8000, "subtype": "PCM_24"}, "must lie in"),
    (np.zeros(8, np.int16), {"samplerate": 8000, "subtype": "FLOAT"}, "stored as float32"),
])
def test_from_array_rejects_what_it_cannot_store(modality, array, meta, match):
    with pytest.raises(InrzError, match=match):
        modality.from_array(array, meta)


@pytest.mark.parametrize("array,meta", [
    (np.array([-32768, -1, 0, 1, 32767], np.int16), {"samplerate": 16000}),
    (np.array([[-2**23, 2**23 - 1], [0, -5], [7, 1]], np.int32), {"samplerate": 44100, "subtype": "PCM_24"}),
    (np.array([-1.5, -1.0, 0.25, 1.0], np.float32), {"samplerate": 8000}),
])
def test_features_map_amplitudes_to_unit_interval_and_back(modality, array, meta):
    signal = modality.from_array(array, meta)
    features, norm = modality.to_features(signal)
    assert features.dtype == np.float32 and features.min() >= 0 and features.max() <= 1
    assert features.shape == (signal.meta["frames"], signal.meta["channels"])
    back = modality.from_features(features, signal.meta, norm).data
    assert back.dtype == signal.data.dtype
    if array.dtype.kind == "f":  # exact up to float32 features: a few ulps of the scale
        np.testing.assert_allclose(back, signal.data, rtol=0, atol=4 * norm["scale"] * 2.0**-24)
    else:
        np.testing.assert_array_equal(back, signal.data)
    if array.dtype == np.int16:  # the paper's (x / 32768 + 1) / 2
        np.testing.assert_array_equal(features[:, 0], (array / 32768 + 1) / 2)


def test_from_features_clamps_and_rounds(modality):
    signal = modality.from_array(np.zeros(4, np.int16), {"samplerate": 16000})
    out = modality.from_features(np.array([[-0.2], [0.0], [0.50001], [1.3]], np.float32), signal.meta, {"scale": 32768})
    np.testing.assert_array_equal(out.data[:, 0], [-32768, -32768, 1, 32767])


def test_coordinates_span_plus_minus_coord_scale(host, modality):
    coords = modality.coordinates([4000])
    assert coords.shape == (4000, 1) and coords.dtype == np.float32
    assert coords[0, 0] == -5.0 and coords[-1, 0] == 5.0 and np.all(np.diff(coords[:, 0]) > 0)
    assert host.create("modality", {"id": "audio", "coord_scale": 1.0}).coordinates([3])[:, 0].tolist() == [-1, 0, 1]


def test_psnr_is_the_papers_psnr_on_unit_features(host, modality):
    signal = crop(modality, WAV)
    noisy = signal.data.astype(np.int32) + np.random.default_rng(0).integers(-300, 301, signal.data.shape)
    decoded = modality.from_array(np.clip(noisy, -32768, 32767).astype(np.int16), signal.meta)
    a, b = modality.to_features(signal)[0].astype(np.float64), modality.to_features(decoded)[0].astype(np.float64)
    expected = -10 * math.log10(np.mean((a - b) ** 2))
    assert host.create("metric", "psnr").compute(signal, decoded, modality) == pytest.approx(expected, abs=1e-9)
    x, e = signal.data.astype(np.float64), (signal.data.astype(np.float64) - decoded.data)
    snr = host.create("metric", "snr").compute(signal, decoded, modality)
    assert snr == pytest.approx(10 * math.log10(np.sum(x * x) / np.sum(e * e)))


@pytest.mark.parametrize("parts", [WAV, FLAC, JFK, None])
def test_conformance_kit(host, modality, parts):
    signal = check_modality(modality, data_file(*parts) if parts else None)
    if parts is None:  # the embedded example: the fit and metric checks run on it
        check_smoke_fit(modality, signal, host)
        for metric in ("psnr", "snr"):
            check_metric(host.create("metric", metric), signal, modality)


# --- codecs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("parts", [WAV, JFK])
def test_coin_container_round_trip(host, modality, tmp_path, parts):
    signal = crop(modality, parts, seconds=0.1 if parts == JFK else 0.25)
    encoded = check_container_round_trip(tiny_codec(modality, host, steps=10), signal, host)
    decoded = decode(encoded.data, host).signal
    assert decoded.meta == signal.meta and decoded.data.dtype == signal.data.dtype
    modality.save(decoded, tmp_path / "out.flac")
    info = sf.info(str(tmp_path / "out.flac"))
    assert (info.samplerate, info.channels, info.subtype) == (signal.meta["samplerate"], signal.meta["channels"],
                                                              signal.meta["subtype"])


@pytest.mark.slow  # meta-training
def test_coinpp_trains_and_codes_short_patches(host, modality, tmp_path, monkeypatch):
    import torch

    from inrz_coinpp import artifacts
    from inrz_coinpp.config import TrainConfig
    from inrz_coinpp.data import TrainData
    from inrz_coinpp.loop import train

    monkeypatch.setenv(artifacts.MODELS_ENV, str(tmp_path / "models"))
    artifacts._load_cached.cache_clear()
    clips = [modality.to_features(crop(modality, parts, 0.5))[0] for parts in (WAV, FLAC, OGG)]
    seen = []

    def coordinates(shape):
        seen.append(modality.coordinates(shape))
        return seen[-1]

    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[100], depth=2, width=16, latent_dim=8, steps=20,
                      batch_size=8, outer_lr=1e-3, val_every=10, val_patches=8, checkpoint_every=20,
                      stats_patches=64, quant_bits=[5])
    net = train(cfg, TrainData(clips[:2], clips[2:], {"test": True}, coordinates), 0, torch.device("cpu"),
                tmp_path / "train", log=lambda m: None)
    artifacts.save(net)
    assert seen[0].shape == (100, 1) and seen[0].min() == -5.0 and seen[0].max() == 5.0  # one patch spans [-5, 5]
    codec = Codec(modality, host.create("backend", {"id": "coinpp", "model": net.hash}),
                  host.create("quantizer", {"id": "latent_uniform", "model": net.hash, "bits": 5}),
                  host.create("entropy", {"id": "table", "model": net.hash}))
    signal = crop(modality, FLAC, 0.25, start=3.0)  # 4000 samples: 40 patches
    encoded = check_container_round_trip(codec, signal, host)
    decoded = decode(encoded.data, host).signal
    assert decoded.data.shape == (4000, 1) and decoded.data.dtype == np.int16 and encoded.payload_bytes < 400


# --- baselines -----------------------------------------------------------------------------------
def baseline(host, id):
    component = host.create("baseline", id)
    if reason := component.available():
        pytest.skip(f"{id} unavailable here: {reason}")
    return component


@pytest.mark.parametrize("id", ["mp3", "opus", "vorbis"])
def test_lossy_baselines_hit_the_target_size(host, modality, id):
    codec, signal = baseline(host, id), crop(modality, WAV, seconds=2.0)
    snr = host.create("metric", "snr")
    results = [codec.at_size(signal, target) for target in (3_000, 6_000, 16_000)]
    for target, result in zip((3_000, 6_000, 16_000), results):
        assert len(result.data) <= target or result.quality == codec.quality_range[0]  # else: its smallest file
        assert result.decoded.data.shape == signal.data.shape and result.decoded.meta == signal.meta
    assert [len(r.data) for r in results] == sorted(len(r.data) for r in results)
    assert len(results[-1].data) <= 16_000 and snr.compute(signal, results[-1].decoded, modality) > 10  # aligned


def test_mp3_low_rates_are_aligned_despite_the_codec_delay(host, modality):
    codec, signal = baseline(host, "mp3"), crop(modality, WAV, seconds=2.0)
    decoded = codec.decode(codec.encode(signal, 1), signal)  # 8 kbps: no gapless tag, 1105 samples of delay
    assert len(codec.encode(signal, 1)) < 2_500
    assert host.create("metric", "snr").compute(signal, decoded, modality) > 5


@pytest.mark.parametrize("id", ["mp3", "opus"])
def test_other_rates_are_resampled_for_the_codec(host, modality, id):
    codec, signal = baseline(host, id), crop(modality, LJ, seconds=1.0)  # 22.05 kHz; 24-bit stereo below
    for s in (signal, crop(modality, JFK, seconds=0.5)):
        decoded = codec.decode(codec.encode(s, 50), s)
        assert decoded.data.shape == s.data.shape and decoded.data.dtype == s.data.dtype
        assert host.create("metric", "snr").compute(s, decoded, modality) > 5


def test_flac_is_the_lossless_size_reference(host, modality):
    flac = baseline(host, "flac")
    for signal in (crop(modality, WAV), crop(modality, JFK, seconds=0.1)):
        result = flac.at_size(signal, 10)
        np.testing.assert_array_equal(result.decoded.data, signal.data)
        assert len(result.data) > 10 and result.decoded.data.dtype == signal.data.dtype


# --- the LibriSpeech dataset ----------------------------------------------------------------------
UTTERANCES = {"2412-153948-0000": FLAC, "1272-141231-0002": ("audio", "librispeech_1272-141231-0002.flac")}


def librispeech_tree(root: Path) -> Path:
    """The archive's layout, from the real FLACs: LibriSpeech/test-clean/<spk>/<chapter>/<id>.flac + transcripts."""
    for utt, parts in UTTERANCES.items():
        spk, chapter, _ = utt.split("-")
        folder = root / "LibriSpeech" / "test-clean" / spk / chapter
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{utt}.flac").write_bytes(data_file(*parts).read_bytes())
        (folder / f"{spk}-{chapter}.trans.txt").write_text(f"{utt} TEXT\n")
    return root


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_librispeech_downloads_verifies_and_extracts_flacs(host, tmp_path, monkeypatch):
    from inrz import sha256_of
    from inrz_audio import datasets

    tree = librispeech_tree(tmp_path / "src")
    archive = tmp_path / "served" / "test-clean.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree / "LibriSpeech", arcname="LibriSpeech")
    monkeypatch.setattr(datasets, "LIBRISPEECH_URL", archive.parent.as_uri() + "/{split}.tar.gz")
    monkeypatch.setitem(datasets.LIBRISPEECH_SHA256, "test-clean", sha256_of(archive))
    cache = tmp_path / "cache"
    items = host.create("dataset", {"id": "librispeech", "cache_dir": str(cache)}).items()
    assert [i.name for i in items] == sorted(UTTERANCES)
    assert all(i.path.read_bytes() == data_file(*UTTERANCES[i.name]).read_bytes() for i in items)
    assert not list(cache.rglob("*.txt"))  # only the audio is extracted
    monkeypatch.setattr(datasets, "LIBRISPEECH_URL", "http://offline.invalid/{split}.tar.gz")
    again = host.create("dataset", {"id": "librispeech", "cache_dir": str(cache), "limit": 1}).items()
    assert [i.path for i in again] == [items[0].path]  # extracted once, then read from the cache


def test_librispeech_reads_a_local_copy(host, tmp_path, offline):
    tree = librispeech_tree(tmp_path / "data")
    for path in (tree, tree / "LibriSpeech", tree / "LibriSpeech" / "test-clean"):
        items = host.create("dataset", {"id": "librispeech", "path": str(path), "cache_dir": str(tmp_path)}).items()
        assert [i.name for i in items] == sorted(UTTERANCES)


def test_librispeech_offline_without_a_copy_is_a_dataset_error(host, tmp_path, offline):
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "test-clean.tar.gz").write_bytes(b"not the archive")
    for config in ({}, {"path": str(tmp_path / "local")}):
        with pytest.raises(DatasetError, match="could not download .*test-clean.tar.gz.*`path`"):
            host.create("dataset", {"id": "librispeech", "cache_dir": str(tmp_path / "cache"), **config}).items()


# --- specs and missing dependencies ----------------------------------------------------------------
def test_specs_validate(host):
    data_file("audio")  # the CPU spec's dataset is the real audio folder: skip without it
    spec = check_spec(SPECS / "librispeech-cpu.yaml", host)
    items = host.create("dataset", spec.dataset).items(SPECS)
    train = host.create("dataset", spec.train["dataset"]).items(SPECS)
    assert items and train and not {i.path for i in items} & {i.path for i in train}
    assert all(sf.info(str(i.path)).samplerate == 16000 for i in items + train)
    from inrz.runs.spec import load_spec

    assert load_spec(SPECS / "librispeech.yaml", host=host).dataset["id"] == "librispeech"


def test_missing_soundfile_names_the_extra(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "soundfile", None)  # `import soundfile` now raises ImportError
    modality = host.create("modality", "audio")
    assert "inrz[audio]" in type(modality).available()
    for id in ("mp3", "opus", "flac"):
        assert "inrz[audio]" in host.registry.get("baseline", id).available()
    with pytest.raises(MissingDependencyError, match=r"pip install 'inrz\[audio\]'"):
        modality.load(io.BytesIO(b""))
