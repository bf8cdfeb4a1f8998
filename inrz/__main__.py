"""`python -m inrz ...` (and `torchrun -m inrz train ...`)."""
import sys

from .cli import console

sys.exit(console())
