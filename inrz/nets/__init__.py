"""The networks an INR is made of: SIREN (COIN), the modulated SIREN (COIN++), and the
content-addressed store of trained COIN++ base networks."""
