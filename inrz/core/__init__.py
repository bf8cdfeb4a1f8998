"""The core every stage builds on: the component base class and registry, the plugin hooks
and host (the only user of pluggy), built-in registrations, the error hierarchy, device choice,
atomic writes and the cache folder. Nothing here names a modality or a backend."""
