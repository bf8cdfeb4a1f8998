"""Model backends: fit a representation of a signal's features, store it as named tensors,
and evaluate it at any coordinates (`base.py` holds the contract, including rate knobs)."""
