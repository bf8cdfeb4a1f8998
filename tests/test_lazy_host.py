"""`PluginHost(lazy=True)` (the process-wide `get_host()`): plugins load on demand, the one
named like a component first, every one before a listing; lookups give what an eager host gives."""
from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys

import pytest

from inrz import PluginError, PluginHost, UnknownComponentError
from inrz.cli.main import _command, build_parser

NAMES = {ep.name for ep in md.entry_points(group="inrz")}


def loaded(host: PluginHost) -> set[str]:
    return {name for name, _ in host.pm.list_name_plugin()}


@pytest.mark.skipif(not {"c3", "image"} <= NAMES, reason="the c3 and image plugins are not installed")
def test_a_lookup_loads_the_plugin_named_like_the_component():
    host = PluginHost(lazy=True)
    assert loaded(host) == {"inrz"}
    eager = PluginHost()
    assert host.registry.get("backend", "c3") is eager.registry.get("backend", "c3")
    assert host.registry.get("modality", "image") is eager.registry.get("modality", "image")
    assert loaded(host) == {"inrz", "c3", "image"}
    assert host.registry.get("modality", "ndarray") is eager.registry.get("modality", "ndarray")  # a built-in
    assert loaded(host) == {"inrz", "c3", "image"}


@pytest.mark.skipif("image" not in NAMES, reason="the image plugin is not installed")
def test_an_id_no_entry_point_is_named_after_loads_them_all():
    host = PluginHost(lazy=True)
    assert host.registry.get("baseline", "avif") is PluginHost().registry.get("baseline", "avif")
    assert loaded(host) == {"inrz"} | _env_names()


def _env_names() -> set[str]:
    import inrz.host.manager as manager

    only = manager._env_filter()
    return NAMES if only is None else NAMES & set(only)


def test_listings_and_unknown_ids_see_every_plugin():
    eager = PluginHost()
    lazy = PluginHost(lazy=True)
    for kind in ("modality", "backend", "baseline", "metric", "dataset"):
        assert lazy.registry.names(kind) == eager.registry.names(kind)
    assert set(PluginHost(lazy=True).info) == set(eager.info)
    with pytest.raises(UnknownComponentError) as lazy_error:
        PluginHost(lazy=True).registry.get("backend", "no_such_backend")
    with pytest.raises(UnknownComponentError) as eager_error:
        eager.registry.get("backend", "no_such_backend")
    assert str(lazy_error.value) == str(eager_error.value)


@pytest.mark.skipif("c3" not in NAMES, reason="the c3 plugin is not installed")
def test_a_broken_plugin_stops_only_what_needs_every_plugin(monkeypatch):
    real = md.entry_points(group="inrz")
    broken = md.EntryPoint(name="test_broken", value="inrz_test_no_such_module", group="inrz")
    monkeypatch.setattr(md, "entry_points", lambda group=None: [*real, broken] if group == "inrz" else [])
    host = PluginHost(lazy=True)
    assert host.registry.get("backend", "c3").id == "c3"
    for _ in range(2):  # every time: the broken plugin stays pending, as an eager host would not start at all
        with pytest.raises(PluginError, match="test_broken"):
            host.registry.names("backend")
    lenient = PluginHost(lazy=True, strict=False)
    assert lenient.status("test_broken")[0] == "unavailable" and "c3" in lenient.registry.names("backend")


def test_the_command_word_skips_global_options():
    assert _command(["--threads", "2", "decompress", "x.inrz"]) == "decompress"
    assert _command(["decompress", "--threads", "1", "x.inrz"]) == "decompress"
    assert _command(["-h"]) is None and _command([]) is None
    full = build_parser()._subparsers._group_actions[0].choices
    core = build_parser(["decompress", "x"])._subparsers._group_actions[0].choices
    assert set(core) <= set(full) and "decompress" in core


@pytest.mark.skipif(not {"c3", "image"} <= NAMES, reason="the c3 and image plugins are not installed")
def test_decompress_imports_only_the_plugins_its_file_names(tmp_path):
    import numpy as np

    from inrz import compress

    src = tmp_path / "x.inrz"
    src.write_bytes(compress(np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8), modality="image",
                             backend="c3", steps=2))
    code = ("import sys; from inrz.cli.main import main; "
            f"code = main(['decompress', {str(src)!r}, '-o', {str(tmp_path / 'x.png')!r}]); "
            "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('inrz_')})); sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "['inrz_c3', 'inrz_image']"


def test_threads_looking_components_up_at_once_load_each_plugin_once():
    """zarr's thread pool and Dask's threads share the archive codec's lazy host."""
    from concurrent.futures import ThreadPoolExecutor

    eager = PluginHost()
    wanted = [(kind, id) for kind in ("backend", "modality", "baseline") for id in eager.registry.names(kind)]
    for _ in range(5):
        host = PluginHost(lazy=True)
        with ThreadPoolExecutor(8) as pool:
            found = list(pool.map(lambda kid: host.registry.get(*kid), wanted * 3))
        assert found == [eager.registry.get(*kid) for kid in wanted * 3]  # none missed while another thread loaded
