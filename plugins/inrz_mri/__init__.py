"""MRI volumes through nibabel (being built: registers nothing yet)."""
