"""One datum through every stage: `Codec` (encode), `decode`, rate control and the size
search over a backend's rate ladder, per-modality defaults, and the Python API."""
