"""Climate grids on the sphere through xarray (being built: registers nothing yet)."""
