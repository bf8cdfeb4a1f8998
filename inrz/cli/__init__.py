"""The `inrz` command, split by command group; `main.py` maps errors to exit codes."""
