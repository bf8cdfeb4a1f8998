"""Every figure the README quotes from a run equals the committed results file it names.

A README table of run figures is preceded by `<!-- figures: results/<run>/results.json point N -->`;
its first column names the codec as results.json does (in backticks), and each numeric cell must
equal that codec's mean figure at the point, rounded as printed. So a README number cannot drift
from the file, and a re-run that changes the file fails here until the README follows."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- figures: (\S+) point (\d+) -->\n+((?:\|.*\|\n)+)")
COLUMNS = {"bpp": "bpp", "psnr": "psnr", "ms-ssim": "ms-ssim"}


def tables(text: str) -> list[tuple[str, int, list[list[str]]]]:
    out = []
    for path, point, body in MARKER.findall(text):
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in body.strip().splitlines()]
        out.append((path, int(point), rows))
    return out


def means(results: dict, codec: str, point: int) -> dict:
    if codec == "inrz":
        figures = results["results"]
    else:
        figures = results["baselines"][codec]["results"]
    return {k: v[point] for k, v in figures.items() if isinstance(v, list) and len(v) > point}


def header_keys(header: list[str]) -> list[str | None]:
    keys = []
    for cell in header:
        name = cell.lower().split("(")[0].strip()
        keys.append(COLUMNS.get(name))
    return keys


def test_the_readme_quotes_run_figures_from_committed_results():
    found = tables(README.read_text())
    assert found, "the README's run tables carry a '<!-- figures: results/... point N -->' marker"
    for path, point, rows in found:
        results = json.loads((ROOT / path).read_text())
        keys = header_keys(rows[0])
        assert "bpp" in keys and "psnr" in keys, rows[0]
        for row in rows[2:]:
            codec = re.search(r"`([^`]+)`", row[0])
            assert codec, f"{path}: the first column of {row} names the codec in backticks"
            figures = means(results, codec.group(1), point)
            for key, cell in zip(keys, row):
                if key is None:
                    continue
                number = re.search(r"-?\d+(\.\d+)?", cell.replace("*", ""))
                assert number, f"{path}: {codec.group(1)} {key}: no number in {cell!r}"
                decimals = len(number.group(1) or ".") - 1
                assert round(figures[key], decimals) == pytest.approx(float(number.group(0)), abs=1e-9), (
                    f"README says {codec.group(1)} {key} = {number.group(0)}, {path} has {figures[key]:.4f}")


def test_every_results_file_the_readme_names_is_committed():
    text = README.read_text().split("## Commands")[0]  # the figures' sources (later sections show example paths)
    for path in set(re.findall(r"results/[\w./-]+\.(?:json|md|png)", text)):
        if "<" in path:
            continue
        assert (ROOT / path).is_file(), f"the README names {path}, which is not in the repository"
