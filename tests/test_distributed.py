"""`inrz train` under torchrun with 2 CPU processes on the gloo backend (the DDP code path)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from .conftest import data_file

pytestmark = pytest.mark.slow  # two torchrun processes train a base network

SPEC = """
name: ddp
seed: 0
device: cpu
dataset: {{id: folder, path: {folder}, glob: "*/0009.jpg"}}
modality: {{id: image}}
train:
  dataset: {{id: folder, path: {folder}, glob: "*/000[0-7].jpg"}}
  val_dataset: {{id: folder, path: {folder}, glob: "*/0008.jpg"}}
  patch: [16, 16]
  depth: 2
  width: 16
  latent_dim: 8
  steps: 6
  batch_size: 4
  val_every: 3
  checkpoint_every: 3
  val_patches: 8
  stats_patches: 32
  quant_bits: [4]
output: {out}
"""


def test_two_process_gloo_training_saves_one_network(tmp_path):
    folder = data_file("cifar10", "test_jpg")
    spec = tmp_path / "ddp.yaml"
    spec.write_text(SPEC.format(folder=folder, out=tmp_path / "out"))
    env = {**os.environ, "INRZ_MODELS_DIR": str(tmp_path / "models"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29531",
           "-m", "inrz", "train", str(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    hashes = set(re.findall(r"[0-9a-f]{16}", done.stdout))  # the two ranks' lines may interleave
    assert len(hashes) == 1, done.stdout  # both ranks print the hash rank 0 saved
    config = json.loads((tmp_path / "models" / hashes.pop() / "config.json").read_text())
    assert config["info"]["steps"] == 6
