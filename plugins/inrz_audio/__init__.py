"""Audio through soundfile (being built: registers nothing yet)."""
