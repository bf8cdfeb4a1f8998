"""Signals and their geometry: the modality contract (file <-> `Signal` <-> coordinates and
features), regular coordinate grids, the `ndarray` modality, patches, and distortion metrics
(the one `psnr`)."""
