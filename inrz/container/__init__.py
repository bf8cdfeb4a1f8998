"""The `.inrz` container (format v1, docs/format.md): a checksummed envelope of a JSON header
and named byte sections. `inrz.container.format` is the reference implementation."""
from .format import (FORMAT_VERSION, MAGIC, check_header, overhead, read, read_file, read_header, write,  # noqa: F401
                     write_file)
