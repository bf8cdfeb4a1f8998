"""`PluginHost`: what ships is registered, every component round-trips its config, and every
way a plugin can be wrong is a `PluginError` naming the plugin.

Temporary plugins are plain modules with `@inrz.hookimpl` functions, added to a host of their
own and always removed by their fixture.
"""
from __future__ import annotations

import importlib.metadata as md
import json
import types

import pytest

import inrz
from inrz import PluginError, PluginHost, Quantizer, UnknownComponentError
from inrz.coding.quantize import Float16

EXPECTED = {
    "backend": {"coin"},
    "quantizer": {"fp16", "uniform"},
    "entropy": {"raw", "zstd"},
    "dataset": {"folder", "kodak"},
    "metric": {"psnr"},
    "modality": {"image"},
    "baseline": {"jpeg", "webp", "jpeg2000"},
}
IMAGE_COMPONENTS = {"modality": ["image"], "dataset": ["kodak", "cifar10"], "baseline": ["jpeg", "webp", "jpeg2000", "avif",
                                                                                    "jpegxl", "hevc"],
                    "metric": ["ms-ssim"]}

#: example values for required settings (no default), by field name, so every component can be built
EXAMPLE_SETTINGS = {"path": ".", "model": "0123456789abcdef"}

_HOST = PluginHost()  # the default host, built once at collection to parametrize over its registry
REGISTERED = [(kind, id) for kind in _HOST.registry.bases for id in _HOST.registry.names(kind)]


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return _HOST


@pytest.fixture
def fresh_host() -> PluginHost:
    """A host of its own (core components only) for tests that add plugins to it."""
    return PluginHost(entry_points=False)


def plugin_module(name: str, **hooks) -> types.ModuleType:
    """A plugin module whose attributes are the given hook functions, marked as hook impls."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, inrz.hookimpl(function))
    return module


class Halve(Quantizer):
    """A quantizer only the temporary plugin knows."""

    id = "test_halve"


@pytest.fixture
def temp_plugin(fresh_host):
    name = "test_temp_plugin"
    fresh_host.add_plugin(plugin_module(name, register_quantizers=lambda register: register(Halve)), name)
    yield fresh_host, name
    fresh_host.remove_plugin(name)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_shipped_components_are_registered(host, kind):
    assert EXPECTED[kind] <= set(host.registry.names(kind))


def test_image_plugin_is_loaded_through_its_entry_point(host):
    info = host.info["image"]
    assert info.module == "inrz_image"
    assert {k: sorted(v) for k, v in info.components.items()} == {k: sorted(v) for k, v in IMAGE_COMPONENTS.items()}
    for kind, ids in IMAGE_COMPONENTS.items():
        assert all(host.registry.entries(kind)[i].plugin == "image" for i in ids)


@pytest.mark.parametrize("kind,id", REGISTERED, ids=[f"{k}-{i}" for k, i in REGISTERED])
def test_component_config_round_trip(host, kind, id):
    cls = host.registry.get(kind, id)
    assert cls.kind == kind and cls.id == id
    required = [name for name, field in cls.Config.model_fields.items() if field.is_required()]
    missing = [name for name in required if name not in EXAMPLE_SETTINGS]
    assert not missing, f"add example values for {kind} {id!r} settings {missing} to EXAMPLE_SETTINGS"
    instance = cls({name: EXAMPLE_SETTINGS[name] for name in required})
    config = instance.get_config()
    assert next(iter(config)) == "id" and config["id"] == id
    assert json.loads(json.dumps(config)) == config  # goes into container headers as is
    rebuilt = cls.from_config(config)
    assert rebuilt == instance and hash(rebuilt) == hash(instance)
    assert host.create(kind, config) == instance
    assert repr(rebuilt) == repr(instance)


@pytest.mark.parametrize("kind,id", REGISTERED, ids=[f"{k}-{i}" for k, i in REGISTERED])
def test_registry_looks_up_by_exact_type(host, kind, id):
    entry = host.registry.entries(kind)[id]
    assert host.registry.get(kind, id) is entry.cls
    assert issubclass(entry.cls, host.registry.bases[kind])


def test_unknown_component_lists_available_ids(host):
    with pytest.raises(UnknownComponentError, match=r"unknown quantizer 'fp61'.*available: .*fp16, .*uniform"):
        host.registry.get("quantizer", "fp61")
    with pytest.raises(UnknownComponentError, match=r"available: .*coin"):
        host.create("backend", {"id": "nope"})
    with pytest.raises(UnknownComponentError, match=r"unknown component kind 'codec' \(kinds: modality"):
        host.registry.get("codec", "x")


def test_temporary_plugin_registers_its_components(temp_plugin):
    host, name = temp_plugin
    assert host.registry.get("quantizer", "test_halve") is Halve
    assert host.registry.entries("quantizer")["test_halve"].plugin == name
    assert host.info[name].components == {"quantizer": ["test_halve"]}
    assert host.create("quantizer", "test_halve") == Halve()


def test_remove_plugin_unregisters_its_components(fresh_host):
    name = "test_removed"
    fresh_host.add_plugin(plugin_module(name, register_quantizers=lambda register: register(Halve)), name)
    try:
        assert "test_halve" in fresh_host.registry.names("quantizer")
    finally:
        fresh_host.remove_plugin(name)
    assert "test_halve" not in fresh_host.registry.names("quantizer")
    assert name not in fresh_host.info and not fresh_host.pm.has_plugin(name)
    assert fresh_host.registry.get("quantizer", "fp16") is Float16  # other plugins' components stay


def test_misspelled_hook_names_the_plugin(fresh_host):
    bad = plugin_module("test_misspelled", register_modalitys=lambda register: None)
    with pytest.raises(PluginError, match=r"plugin 'test_misspelled'.*register_modalitys.*valid hooks: register_modalities"):
        fresh_host.add_plugin(bad, "test_misspelled")
    assert not fresh_host.pm.has_plugin("test_misspelled")


def test_wrong_hook_argument_names_the_plugin(fresh_host):
    bad = plugin_module("test_wrong_arg", register_backends=lambda reg: None)
    with pytest.raises(PluginError, match=r"plugin 'test_wrong_arg'"):
        fresh_host.add_plugin(bad, "test_wrong_arg")


def test_class_of_the_wrong_kind_is_rejected(fresh_host):
    bad = plugin_module("test_wrong_base", register_backends=lambda register: register(Halve))
    with pytest.raises(PluginError, match=r"plugin 'test_wrong_base'.*must subclass inrz\.backends\.base\.Backend"):
        fresh_host.add_plugin(bad, "test_wrong_base")
    assert "test_wrong_base" not in fresh_host.info


def test_non_class_is_rejected(fresh_host):
    bad = plugin_module("test_not_a_class", register_quantizers=lambda register: register(Float16()))
    with pytest.raises(PluginError, match=r"plugin 'test_not_a_class'.*must subclass"):
        fresh_host.add_plugin(bad, "test_not_a_class")


def test_class_without_id_is_rejected(fresh_host):
    class Anonymous(Quantizer):
        pass

    bad = plugin_module("test_no_id", register_quantizers=lambda register: register(Anonymous))
    with pytest.raises(PluginError, match=r"plugin 'test_no_id'.*has no `id`"):
        fresh_host.add_plugin(bad, "test_no_id")


def test_duplicate_id_names_both_plugins_and_leaves_no_trace(fresh_host):
    class OtherFp16(Float16):
        pass

    def register(register):
        register(Halve)  # registered first, must be rolled back
        register(OtherFp16)

    bad = plugin_module("test_duplicate", register_quantizers=register)
    with pytest.raises(PluginError, match=r"plugin 'test_duplicate'.*'fp16' is already registered by plugin 'inrz'"):
        fresh_host.add_plugin(bad, "test_duplicate")
    assert fresh_host.registry.get("quantizer", "fp16") is Float16
    assert "test_halve" not in fresh_host.registry.names("quantizer")
    assert "test_duplicate" not in fresh_host.info and not fresh_host.pm.has_plugin("test_duplicate")


def test_same_plugin_name_twice_is_a_plugin_error(temp_plugin):
    host, name = temp_plugin
    with pytest.raises(PluginError, match=rf"plugin '{name}' is already loaded"):
        host.add_plugin(plugin_module(name), name)
    assert host.registry.get("quantizer", "test_halve") is Halve  # the loaded one is untouched


def test_plugin_failing_inside_its_hook_is_named(fresh_host):
    def register(register):
        raise RuntimeError("boom")

    bad = plugin_module("test_raises", register_metrics=register)
    with pytest.raises(PluginError, match=r"plugin 'test_raises' failed in metric registration: boom"):
        fresh_host.add_plugin(bad, "test_raises")


def test_inrz_plugins_env_var_limits_entry_points(monkeypatch):
    monkeypatch.setenv("INRZ_PLUGINS", "none")
    host = PluginHost()
    assert "image" not in host.info
    assert host.registry.names("modality") == ["ndarray"]  # the core's own; no plugin modality
    assert host.registry.names("backend") == ["none"]  # built-ins always load; backends are plugins
    monkeypatch.setenv("INRZ_PLUGINS", "coin,coinpp")
    assert PluginHost().registry.names("backend") == ["coin", "coinpp", "none"]
    monkeypatch.setenv("INRZ_PLUGINS", "image")
    assert "image" in PluginHost().info


def test_failing_entry_point_import_is_a_plugin_error(monkeypatch):
    broken = md.EntryPoint(name="test_broken", value="inrz_test_no_such_module", group="inrz")
    monkeypatch.setattr(md, "entry_points", lambda group=None: [broken] if group == "inrz" else [])
    with pytest.raises(PluginError, match=r"plugin 'test_broken' \(inrz_test_no_such_module\) failed to import: "
                                          r"ModuleNotFoundError"):
        PluginHost()


def test_cli_plugins_prints_the_image_plugin(capsys):
    from inrz.cli.main import main

    assert main(["plugins"]) == 0
    listed = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in listed}
    assert "inrz" not in by_name  # the core is listed only with --all
    image = by_name["image"]
    assert image["module"] == "inrz_image"
    assert {k: sorted(v) for k, v in image["components"].items()} == {k: sorted(v) for k, v in IMAGE_COMPONENTS.items()}


def test_cli_plugins_all_includes_the_core(capsys):
    from inrz.cli.main import main

    assert main(["plugins", "--all"]) == 0
    core = {p["name"]: p for p in json.loads(capsys.readouterr().out)}["inrz"]
    expected = {"backend": {"none"}, "quantizer": {"fp16", "uniform"}, "entropy": {"raw", "zstd"},
                "dataset": {"folder"}, "metric": {"psnr"}}
    for kind, ids in expected.items():
        assert ids <= set(core["components"][kind]), kind
    assert main(["plugins"]) == 0
    plugins = {p["name"]: p["components"] for p in json.loads(capsys.readouterr().out)}
    assert plugins["coin"] == {"backend": ["coin"]}  # every backend is a plugin
    assert plugins["coinpp"] == {"backend": ["coinpp"], "quantizer": ["latent_uniform"], "entropy": ["table"]}
