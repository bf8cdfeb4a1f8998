"""What a YAML spec drives: specs, datasets, classical baselines, training from a spec,
`inrz run` and its reports."""
