"""SIREN's shape and the paper's sine frequency, without torch: what COIN's config, layout and
rate ladder need, so registering COIN (every `inrz` import, every decode) does not load torch.
The network itself is `model.py`.
"""
from __future__ import annotations

from dataclasses import dataclass

W0 = 30.0  # sine frequency (Sitzmann et al. 2020; COIN)


@dataclass(frozen=True)
class SirenShape:
    d_in: int
    d_out: int
    depth: int  # number of sine layers (COIN's num_layers); depth + 1 linear maps in all
    width: int
    w0: float = W0

    def layer_dims(self) -> list[tuple[int, int]]:
        dims = [self.d_in] + [self.width] * self.depth + [self.d_out]
        return [(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]

    def num_params(self) -> int:
        return sum(i * o + o for i, o in self.layer_dims())
