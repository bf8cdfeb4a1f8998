"""The cifar10 dataset unpacks the official pickled batches (here rebuilt from real CIFAR
images) into PNGs, and refuses to run without a verified archive when offline."""
from __future__ import annotations

import pickle
import urllib.request

import numpy as np
import pytest
from PIL import Image

from inrz import DatasetError

from .conftest import data_file


def test_reads_local_python_batches(tmp_path, host):
    images = np.load(data_file("cifar10", "cifar10_test_100.npz"))["images"]  # (100, 32, 32, 3)
    batches = tmp_path / "local" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    flat = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # the official row layout: R plane, G, B
    with open(batches / "test_batch", "wb") as f:
        pickle.dump({b"data": flat, b"labels": list(range(len(images)))}, f)
    dataset = host.create("dataset", {"id": "cifar10", "path": str(tmp_path / "local"),
                                      "cache_dir": str(tmp_path / "cache"), "limit": 5})
    items = dataset.items()
    assert [i.name for i in items] == ["00000", "00001", "00002", "00003", "00004"]
    assert np.array_equal(np.asarray(Image.open(items[3].path)), images[3])


def test_offline_without_archive_is_a_clear_error(tmp_path, host, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    dataset = host.create("dataset", {"id": "cifar10", "cache_dir": str(tmp_path)})
    with pytest.raises(DatasetError, match="cifar-10-python.tar.gz"):
        dataset.items()
