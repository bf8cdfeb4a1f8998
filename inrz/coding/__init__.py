"""Turning tensors into bytes: quantizers (float tensors <-> integer symbols), entropy models
(symbols <-> bytes, including COIN++'s range-coded tables), bit packing, and the error-bound
residual."""
