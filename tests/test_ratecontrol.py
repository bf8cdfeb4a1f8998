"""Rate control picks a configuration that meets the target on the datum itself."""
from __future__ import annotations

import types
from typing import ClassVar

import numpy as np
import pytest
from pydantic import Field

import inrz
from inrz import Backend, Codec, ComponentConfig, EncodeResult, InrzError, Rung, decode
from inrz.pipeline.ladder import describe, header_bits, variants
from inrz.pipeline.ratecontrol import encode_to_target
from inrz.pipeline.sizesearch import smallest_bounded
from inrz.signal.metrics import PSNR

from .conftest import data_file


@pytest.fixture(scope="module")
def crop(host):
    modality = host.create("modality", "image")
    return modality.from_array(modality.load(data_file("kodak", "kodim15.png")).data[200:248, 300:348])


def codec(host, steps=60):
    return Codec(host.create("modality", "image"), host.create("backend", {"id": "coin", "steps": steps, "lr": 1e-3}),
                 host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "zstd"))


@pytest.mark.parametrize("target", [4.0, 8.0])
def test_target_bpp_is_met_and_used(host, crop, target):
    enc, variant = encode_to_target(codec(host), crop, bpp=target, host=host)
    bpp = 8 * len(enc.data) / (48 * 48)
    assert bpp <= target
    assert bpp > 0.5 * target  # it does not waste the budget either


def test_target_psnr_is_met(host, crop):
    enc, variant = encode_to_target(codec(host, steps=200), crop, psnr=18.0, host=host)
    assert PSNR().compute(crop, decode(enc.data, host).signal, variant.modality) >= 18.0
    assert variant.backend.config.bpp < 8.0  # stopped before the largest network


def test_impossible_rate_is_a_clear_error(host, crop):
    with pytest.raises(InrzError, match="bits per pixel"):
        encode_to_target(codec(host), crop, bpp=0.01, host=host)


# --- a backend the core has never heard of takes part through its own ladder --------------------

class BlockGridConfig(ComponentConfig):
    cells: int = Field(4, ge=1, le=256)  # cells per grid axis


class BlockGrid(Backend):
    """The mean of the features over cells^d blocks, read back piecewise constant: a backend
    whose rate knob (cells per axis) the core knows nothing about, without size predictions."""

    id = "test_block_grid"
    Config: ClassVar = BlockGridConfig
    fits: ClassVar[list[int]] = []  # the cells of every fit, in order

    def rate_ladder(self, quantizer, entropy, knobs=None):
        return [Rung(f"cells={int(c)}", type(self)(cells=int(c))) for c in knobs or (2, 4, 8, 16, 32)]

    def layout(self, grid_shape, d_in, d_out):
        return {"cells": (self.config.cells,) * d_in + (d_out,)}

    def encode(self, coords, features, ctx):
        self.fits.append(self.config.cells)
        cell, n = self._cells(coords).ravel(), self.config.cells ** coords.shape[-1]
        counts = np.maximum(np.bincount(cell, minlength=n), 1)[:, None]
        results = []
        for f in features:
            sums = np.zeros((n, f.shape[-1]))
            np.add.at(sums, cell, f.reshape(-1, f.shape[-1]))
            shape = self.layout(f.shape[:-1], coords.shape[-1], f.shape[-1])["cells"]
            results.append(EncodeResult({"cells": (sums / counts).astype(np.float32).reshape(shape)}))
        return results

    def decode(self, tensors, coords, d_out, ctx):
        return tensors["cells"].reshape(-1, d_out)[self._cells(coords)]

    def _cells(self, coords: np.ndarray) -> np.ndarray:
        """The flat cell index of every coordinate in [-1, 1]^d."""
        c = self.config.cells
        index = np.clip(((coords + 1) / 2 * c).astype(np.int64), 0, c - 1)
        return np.ravel_multi_index(tuple(np.moveaxis(index, -1, 0)), (c,) * coords.shape[-1])


class NoKnobs(BlockGrid):
    id = "test_no_knobs"
    rate_ladder = Backend.rate_ladder


def register_backends(register):
    register(BlockGrid)
    register(NoKnobs)


@pytest.fixture
def block_host(temporary_plugin):
    """A host with the test backends, registered through a plugin and removed after the test."""
    plugin = types.ModuleType("test_block_grid_plugin")
    plugin.register_backends = inrz.hookimpl(register_backends)
    BlockGrid.fits.clear()
    return temporary_plugin(plugin, "test_block_grid_plugin")


@pytest.fixture(scope="module")
def t2m_grid():
    return np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][0]  # (33, 49) float32, K


def block_codec(host, backend="test_block_grid", **extra) -> Codec:
    return Codec(host.create("modality", "ndarray"), host.create("backend", backend),
                 host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "zstd"), **extra)


def test_a_plugin_backend_meets_a_rate_target_by_bisecting_its_ladder(block_host, t2m_grid):
    codec = block_codec(block_host)
    signal = codec.modality.from_array(t2m_grid)
    sizes = {c: len(block_codec(block_host, {"id": "test_block_grid", "cells": c}).encode(signal).data)
             for c in (2, 4, 8, 16, 32)}
    assert list(sizes.values()) == sorted(sizes.values())  # a ladder: files grow along it
    target = 8 * (sizes[8] + sizes[16]) / 2 / t2m_grid.size  # between the 8- and the 16-cell file
    BlockGrid.fits.clear()
    enc, variant = encode_to_target(codec, signal, bpp=target, host=block_host)
    assert variant.backend.config.cells == 8 and len(enc.data) == sizes[8]
    assert enc.info["rung"] == "cells=8"
    assert len(BlockGrid.fits) <= 3, BlockGrid.fits  # bisection over 5 rungs, never a rung twice
    assert len(set(BlockGrid.fits)) == len(BlockGrid.fits)


def test_a_plugin_backend_takes_part_in_the_error_bounded_size_search(block_host, t2m_grid):
    """On a field with jumps between quadrants, the plugin's 2x2 grid plus a residual beats the
    residual alone; the search finds that among the residual alone and every rung."""
    bound = 0.3  # kelvin
    field = t2m_grid + 40.0 * ((np.arange(33) >= 16)[:, None] + 2 * (np.arange(49) >= 24)[None, :])
    codec = block_codec(block_host, max_abs_error=bound)
    signal = codec.modality.from_array(field.astype(np.float32))
    enc, variant = smallest_bounded(codec, signal)
    singles = {c: len(block_codec(block_host, {"id": "test_block_grid", "cells": c}, max_abs_error=bound)
                      .encode(signal).data) for c in (2, 4, 8, 16, 32)}
    alone = len(block_codec(block_host, "none", max_abs_error=bound).encode(signal).data)
    assert min(singles.values()) < alone
    assert len(enc.data) == min(singles.values()) and variant.backend.config.cells == min(singles, key=singles.get)
    assert np.abs(decode(enc.data, block_host).signal.data.astype(np.float64) - field).max() <= bound
    chosen, _ = smallest_bounded(codec, signal, knobs=[2, 32])  # only the settings asked for
    assert len(chosen.data) == min(singles[2], singles[32], alone)
    smooth, variant = smallest_bounded(codec, codec.modality.from_array(t2m_grid))
    assert smooth.info["rung"] == "residual only" and variant.backend.id == "none"  # blocks do not help here


def test_a_backend_without_rate_knobs_is_named(block_host, t2m_grid):
    codec = block_codec(block_host, "test_no_knobs")
    with pytest.raises(InrzError, match="backend 'test_no_knobs' has no rate knobs"):
        encode_to_target(codec, codec.modality.from_array(t2m_grid), bpp=1.0, host=block_host)


def test_the_predicted_header_is_the_real_one(host, crop):
    """COIN's prediction adds the header of the rung as the container writes it, not a guess."""
    coin = Codec(host.create("modality", "image"), host.create("backend", {"id": "coin", "steps": 2}),
                 host.create("quantizer", "fp16"), host.create("entropy", "zstd"))  # fp16 has no side section
    variant = variants(coin)[8]
    datum = describe(variant.codec, crop)
    enc = variant.codec.encode(crop)
    assert header_bits(variant.codec, datum) == 8 * (len(enc.data) - enc.payload_bytes)
    assert header_bits(variant.codec, datum) < 8 * 200  # tens of bytes with the header dictionary
