"""The baseline contract (`baseline.py`: classical codecs compared with inrz at a matching
rate). Modality plugins ship the baselines themselves."""
