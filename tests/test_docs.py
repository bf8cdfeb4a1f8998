"""Quoted source in the docs stays in sync with the files it quotes.

A quote is a fenced code block preceded by `<!-- quote: path/from/repo/root -->`; its text
must appear verbatim in that file.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUOTE = re.compile(r"<!-- quote: (?P<path>\S+) -->\n```[a-z]*\n(?P<code>.*?)\n```", re.S)
DOCS = sorted((ROOT / "docs").glob("*.md"))
QUOTES = [(doc, m["path"], m["code"]) for doc in DOCS for m in QUOTE.finditer(doc.read_text())]


@pytest.mark.parametrize("doc,path,code", QUOTES, ids=[f"{d.name}:{p}:{i}" for i, (d, p, _) in enumerate(QUOTES)])
def test_quote_matches_its_file(doc, path, code):
    source = ROOT / path
    assert source.is_file(), f"{doc.name} quotes {path}, which does not exist"
    assert code in source.read_text(), (f"{doc.name} quotes {path}, but the file no longer contains:\n{code}\n"
                                         "update the quote (or the marker) to match the file")


def test_the_plugin_guide_has_quotes():
    assert sum(1 for d, _, _ in QUOTES if d.name == "plugins.md") >= 10
