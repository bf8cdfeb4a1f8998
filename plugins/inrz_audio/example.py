"""A tiny real sample for conformance checks: 512 samples (32 ms) of LibriSpeech utterance
1995-1837-0001 (16 kHz, 16-bit mono), frames 47872..48383 of the file in ../shared/data/audio.
LibriSpeech (Panayotov et al., ICASSP 2015, www.openslr.org/12), CC BY 4.0.
"""
from __future__ import annotations

import base64

import numpy as np

#: little-endian int16 samples, base64
SAMPLES = (
    "3wF7/m/64vZ29HTyX/DK7S/rzugN51HlxuP04fvg899K317edt4u31TfL+B74DThs+IT5fvmBOkg7I/vQ/Mp92j73v6NAfEE"
    "HQo0D8YTjhcNGzIeMCLxJr0p7SkvKZsovihHKQ0pQCY6ImIeehw9Gm0W9hGWDVAKeAeTBQ0DZf77+dP1kPNu8Xrvye2t6kHo"
    "cuYq5l7lT+MZ4drfEN+M3uzeYd9736LfNeC24HHhvuLm5I3nH+pm7U/xO/Ue+Q78BP+aAlcHaA3eEswW6xlwHeIhGCaXKOwo"
    "5ieFJ2AouylgKb0m0iK6H4kddxtVGHMTyQ4zC8wI3ga7A4D//fpi99z0V/PN8fruLuw56vXoXuf75Kzi/eDU3zrfI9+i39Tf"
    "ad+x387fJeDT4L/iceWd54zptOwP8LLzt/cv+0P+AwI9B1YM5BAZFRkZdBzKHxMkmicfKcYojyjxKJopkyknKMckgSA1HQgb"
    "VRjEFNgQ9Qw8CWkGfQQIARb8X/hE9h300PFr71ftgOq56IjnjeZ65P/hk+AO33HePd/I38ffud7D3ure9t/+4Tvk4+Zd6Lbr"
    "se/l8rT13fhW/HQA5wVIC1sQGBQbGLwbSSC3JGMoGyl4KDYo6ijzKQcqjChoJQ4i1h5KHHYZMRVAEZoNYQoUCGAF8wGi/XP5"
    "nfa/9GzzgvH37hHsVekP6CvnSuXZ4krgEd8H3xLgDOBt32XesN7R36vgZOHL4vbkeeg87JrvRPIo9YT4YvwQAVsFMwoyDywU"
    "+Re1G6wfiCPPJkoo5ChhKOAoACq1KoooAiWGIKcdvhsXGR4VZxDXDJkJDwipBFoANfw6+Qb3APYS9PzwO+6A6/Hpqejw5ufk"
    "5OKm4ZDgit8t3+Ledd9934rezd7L3ibh5+Me5ubopOvA7nDygPar+YX8PgAwBfwKrhAdFe4YUhyvIOgkbidHJwYnwycbKWsq"
    "tyo+KDsk3B9oHfgashdUFKoQ/AyCCTMHUgROAJ37V/iR9v/0G/O38DvujOs46eznd+X+4tnhE+HR36vf+d/P3wTf4t4v34zf"
    "SOB04hXlSOeU6THsA/DC8wb4H/yr/xEEVwlJDvISnxakGtoeqSI8JoInjCevJ84oHCouKvInICQUIPwd4RsNGegU4hCUDZIK"
    "kggpBT4Bm/wY+cX2AvXG8o3wPe7g6/7pbuih5tnj0eE74WDgm9/B3nLegt7s3jrfvd9p4A7iCuUB6Hzq/Owq8ELzAfcH+93+"
    "eAOeCMUNTxJHFpMa7B4/I1omeifjJuMm8idnKXMpoSc9JCggwR0AHE8ZTxXYELAMBgqdB5MF2AGI/a35O/c59Q/zm/Cz7WXr"
    "4+mr6DfmtOP+4XDh4eDN3w=="
)


def example_samples() -> np.ndarray:
    """(512, 1) int16."""
    return np.frombuffer(base64.b64decode(SAMPLES), dtype="<i2").astype(np.int16).reshape(-1, 1)
