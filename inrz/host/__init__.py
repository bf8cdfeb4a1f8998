"""The plugin host: loads plugins through pluggy and fills the registry (`manager.py`, the only
user of pluggy besides the hook declarations), and the core's own components, registered
through the same hooks as any plugin (`builtins.py`). It checks every class against its kind's
contract, so it sits above the contracts (signal, coding, backends, datasets, baselines) and
below everything that creates components (pipeline, runs, api, archive, cli).
"""
