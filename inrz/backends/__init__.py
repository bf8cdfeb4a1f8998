"""Model backends: turn a signal's features into tensors worth storing, and back."""
from .base import Backend, EncodeContext, EncodeResult

__all__ = ["Backend", "EncodeContext", "EncodeResult"]
