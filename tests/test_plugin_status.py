"""`PluginHost(strict=False)` and `inrz plugins`: a broken or partly usable plugin is listed
with its status and the reason, instead of stopping the listing.
"""
from __future__ import annotations

import importlib.metadata as md
import json
import types

import pytest

import inrz
from inrz import PluginError, PluginHost
from inrz.coding.quantize import Float16

KEYS = ["name", "version", "module", "components", "status", "reason"]


@pytest.fixture
def broken_entry_point(monkeypatch):
    """The real entry points plus one whose module does not exist."""
    real = md.entry_points(group="inrz")
    broken = md.EntryPoint(name="test_broken", value="inrz_test_no_such_module", group="inrz")
    monkeypatch.setattr(md, "entry_points", lambda group=None: [*real, broken] if group == "inrz" else [])


def test_strict_host_names_the_broken_plugin(broken_entry_point):
    with pytest.raises(PluginError, match=r"plugin 'test_broken' \(inrz_test_no_such_module\) failed to import"):
        PluginHost()


def test_lenient_host_records_the_failure_and_loads_the_rest(broken_entry_point):
    host = PluginHost(strict=False)
    assert "image" in host.info and "coin" in host.registry.names("backend")
    status, reason = host.status("test_broken")
    assert status == "unavailable" and "ModuleNotFoundError" in reason and "inrz_test_no_such_module" in reason
    assert host.info["test_broken"].components == {}


def test_lenient_host_rolls_back_a_plugin_that_fails_to_register():
    class Again(Float16):
        pass

    bad = types.ModuleType("test_dup")
    bad.register_quantizers = inrz.hookimpl(lambda register: register(Again))
    host = PluginHost(entry_points=False, extra=[bad], strict=False)
    assert host.status("test_dup")[0] == "unavailable" and "choose another id" in host.status("test_dup")[1]
    assert host.registry.get("quantizer", "fp16") is Float16 and not host.pm.has_plugin("test_dup")


def test_components_report_why_they_cannot_run(monkeypatch):
    from inrz_image import Jpeg2000

    monkeypatch.setattr(Jpeg2000, "available", classmethod(lambda cls: "Pillow was built without jpg_2000"))
    host = PluginHost()
    status, reason = host.status("image")
    assert status == "partial" and reason == "baseline 'jpeg2000': Pillow was built without jpg_2000"


def test_a_crashing_available_is_a_reason_not_a_crash(monkeypatch):
    from inrz_image import ImageModality

    def boom(cls):
        raise RuntimeError("broken probe")

    monkeypatch.setattr(ImageModality, "available", classmethod(boom))
    assert "available() raised RuntimeError: broken probe" in PluginHost().status("image")[1]


def test_cli_lists_every_plugin_with_status_even_a_broken_one(broken_entry_point, capsys):
    from inrz.cli.main import main

    assert main(["plugins", "--all"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert all(list(p) == KEYS for p in listed.values())
    assert listed["inrz"]["status"] == "available" and listed["inrz"]["reason"] is None
    assert listed["image"]["status"] in ("available", "partial")
    assert listed["test_broken"]["status"] == "unavailable" and "failed to import" in listed["test_broken"]["reason"]


def test_misspelled_hook_message_says_how_to_fix_it():
    bad = types.ModuleType("test_typo")
    bad.register_metric = inrz.hookimpl(lambda register: None)
    with pytest.raises(PluginError, match=r"plugin 'test_typo'.*rename it \(did you mean 'register_metrics'\?\)"):
        PluginHost(entry_points=False, extra=[bad])


def test_wrong_hook_for_the_class_names_the_right_hook():
    bad = types.ModuleType("test_wrong_hook")
    bad.register_backends = inrz.hookimpl(lambda register: register(Float16))
    with pytest.raises(PluginError, match=r"plugin 'test_wrong_hook'.*Float16 is a quantizer: register it from "
                                          r"register_quantizers"):
        PluginHost(entry_points=False, extra=[bad])
