"""How inrz/container/header_dict_v1.json was made (run once; the file is frozen by its SHA-256 in
inrz/container/format.py, because every container written since depends on its exact bytes).

    python tools/make_header_dict.py CONTAINER... > inrz/container/header_dict_v1.json

It concatenates the canonical headers of representative containers (one per built-in
modality and backend), with base network hashes zeroed, as a JSON array.
"""
from __future__ import annotations

import json
import re
import sys

from inrz.container import format as container


def main(paths: list[str]) -> None:
    container._header_dict = lambda: None  # the sample containers were written before the dictionary existed
    headers = []
    for path in paths:
        header, _ = container.read(open(path, "rb").read())
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        headers.append(re.sub(r'"model":"[0-9a-f]{16}"', '"model":"0000000000000000"', text))
    sys.stdout.write("[\n" + ",\n".join(dict.fromkeys(headers)) + "\n]\n")


if __name__ == "__main__":
    main(sys.argv[1:])
