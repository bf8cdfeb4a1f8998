"""A tiny real sample for conformance checks (`ClimateModality.example_signal`).

ERA5 2 m temperature (K) on 2019-03-01T00:00 UTC over Scotland and northern England: a
16 x 20 crop (56.0..52.25 N, 6.5 W..1.75 W, 0.25 degrees) of `era5_t2m_2019-03_uk.nc` in
shared/data/climate (`pydata/xarray-data` era5-2mt-2019-03-uk.grib), stored exactly as
float32 bytes (zlib, base64). Contains modified Copernicus Climate Change Service
information 2019.
"""
from __future__ import annotations

import base64
import zlib

import numpy as np

from inrz import Signal

from .grid import encode_axis

SHAPE = (16, 20)
T2M = (
    "eNot1H+ojmcYB3BSI2bxBzs082xkQnYKR7IT9oTjYEM4iuxmKC1r+I8attny/mibX3+IPBLbkkNt2ElRrGUzP07TpoR7/LGZyK+YRnye9z1/fPte"
    "133d1/f93vdz3W8yr5RmPWBwKY2vl9LkQjFN9hXTbD2eg98upuFV6FdMY521aXii/C218bBQvAF+FLcWKxpxr/iavV1LaehA86H8ZrWeNOPPYbo4"
    "sb+9+H4hzR4X0thZPITWDOurYL89GW8f0JiBR+OxbXhN/tieFvtX43roJL5C60whDZfw34U0eUC3g9rLtOfiL/Utgql8LuHvQ1gACc0D+lfa04jz"
    "c0/S46zJO9ZqoRfwGe5BjfpMGKO3nd5/1fJ4Be218pHi89Xzxm14Fz6If9WT33Em5yd7xudNPnlPxlhbrb+etz7662Cp+GtrX9BsEA9qO/+L8MT+"
    "u3CYzkac3+lt3o7QbC1U7iOeonEQvtK7lc4W+Ea+Q04zbIBt4sX4DbWrtHbrW8vnbPELcK56p8lf+JjfbYFD8D38rqcVn2z7nT3wrfxTmk34lVLl"
    "20fnzpw/LMa95U/44zVbZ4++eNy+c3rviu/g63BG7YS8GegmBfw+dj9ZX7H5in/SW0N3grPTDfQiX9lF+57S6Fo2h2X3bC3XvlX1G46obxYvEzdU"
    "ZyvW4me8nYUizKeZ6+2354Za97K3UDYH9DqK71u7AvldbMefwUqYBhP0mbEwDLrBz3xu5s/sRTMS/oC+tOr5Gwk10L5c8Rc3qU3E+QzxFIaDb55N"
    "qeZJZ7XL/B0tVmYlGaV2AHfhiV4Yy9/gcuUesx/s5Sd5ZP9p5/kJ/69vqLX5anxmA8TmKgzEfiMuh/xb9OdpGK06Wm9Cfubb9u9Uexd3hFv5O5bn"
    "7/Nj/FH1rYb35HSyT8S/4J56x8NkaIQG2iNo/qfm+4b8LdZArmf2Y6N4TakyH9F3qvwP7AL3FIbwNE7vMhoQm+S11l+S57PzXdvZ3Hvyj/P2E8+q"
    "znxifqO5Cr/RMsfPAaT8P+g="
)


def example_signal() -> Signal:
    """The sample with the metadata `load` gives for it (the crop of one step of the source file)."""
    data = np.frombuffer(zlib.decompress(base64.b64decode(T2M)), "<f4").astype(np.float32).reshape(*SHAPE, 1)
    lat = encode_axis("latitude", 56.0 - 0.25 * np.arange(SHAPE[0]), {"units": "degrees_north"}, {"_FillValue": None})
    lon = encode_axis("longitude", -6.5 + 0.25 * np.arange(SHAPE[1]), {"units": "degrees_east"}, {"_FillValue": None})
    meta = {
        "variable": "t2m", "dims": ["time", "latitude", "longitude"], "shape": list(data.shape), "dtype": "float32",
        "lat": lat, "lon": lon,
        "coords": {"time": {"dims": ["time"], "dtype": "int64", "values": [1551398400],
                            "attrs": {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian"}}},
        "attrs": {"units": "K", "long_name": "2 metre temperature"}, "encoding": {"_FillValue": "nan"},
        "global_attrs": {"license": "Contains modified Copernicus Climate Change Service information 2019"},
        "range": [float(data.min()), float(data.max())],
    }
    return Signal(data, meta)
