"""`python -m inrz ...` (and `torchrun -m inrz train ...`)."""
import sys

from .cli.main import main

sys.exit(main())
