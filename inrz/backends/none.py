"""No network: an empty representation that decodes to zero features (for the `ndarray`
modality, the chunk's minimum), so error-bounded mode codes the residual alone.

This is what a chunk too small or too rough for a network is coded with, what the size
search always measures next to the backend's rungs, and the archive preset sized for
throughput (`preset: fast`): no fit at all, only prediction and range coding.
"""
from __future__ import annotations

import numpy as np

from .base import Backend, EncodeContext, EncodeResult


class NoNetwork(Backend):
    id = "none"
    version = 2  # 2: headers name no quantizer or entropy model (`coding = ()`)
    coding = ()  # nothing to quantize or code

    def encode(self, coords, features, ctx: EncodeContext) -> list[EncodeResult]:
        return [EncodeResult({}, {"steps": 0}) for _ in range(features.shape[0])]

    def layout(self, grid_shape, d_in, d_out):
        return {}

    def decode(self, tensors, coords, d_out, ctx: EncodeContext) -> np.ndarray:
        return np.zeros((*coords.shape[:-1], d_out), np.float32)

    def predicted_payload_bits(self, grid_shape, d_in, d_out, quantizer) -> float:
        return 0.0

    def pack_payload(self, tensors, layout, quantizer, entropy) -> dict[str, bytes]:
        return {}  # nothing to store: not even an empty payload section

    def unpack_payload(self, sections, layout, quantizer, entropy):
        return {}
