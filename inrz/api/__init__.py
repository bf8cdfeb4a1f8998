"""The Python API (`functions.py`: `compress`, `decompress`, `codec_for`, `codec_from_spec`,
...): the top floor that joins specs (`runs.spec`) to the pipeline, so the pipeline itself
never reads a spec and never trains."""
