"""Codecs for archive tools: one shared JSON config, a numcodecs codec and a zarr v3 codec
(each chunk one self-contained container)."""
