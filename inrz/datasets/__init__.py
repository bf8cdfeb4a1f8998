"""The dataset contract (`dataset.py`: `Dataset`, `DatasetItem`, checked downloads) and the
core's one dataset, a local folder. Datasets are a kind of component like any other, so the
contract sits on the ground floors, not with the runs that use it."""
