"""A tiny real sample for conformance and fuzz checks (`ImageModality.example_signal`): the
16 x 16 RGB pixels at rows 200-215, columns 300-315 of kodim15.png of the Kodak Lossless True
Color Image Suite (../shared/data/kodak; released by Eastman Kodak for unrestricted usage).
"""
from __future__ import annotations

import base64

import numpy as np

#: (16, 16, 3) uint8, row-major, base64
PIXELS = (
    "hyYrhSUqhCYqhSUqhyYrhSUqhSUqhSEnhiIoiCEoiCImhCYqeyUpVx0kLxEYKBAYlDQ5kzI3kDI2jy4zkjE2kzI3kjE2ji0y"
    "lDA2ljM5mTM4kjE2ljtAaywyMQ4XJg0VkDAyjy4zjzE1ji0yjCwwjCwwiyoviCgsjCwwjSkvjScsiicsiSsvaigvNhAYKBAY"
    "jCwwiikuhScrhiksiCgsiCgshyYriCgshSUqiSUrkCoukS4xjy4zcy80OxQZKRcalzY7lzY7kzU5kTM3kTM3kTM3jS8zkDA1"
    "jy4zki81lzE1ljM2lDQ2cS4wSCAjVUZIgyInhCMogyIngyIngyIngyIngyIngyIngSEmgyAmhSEngyAmgSEmbCInajk8hnFz"
    "kzU5kjE2kzI3lDQ5kjE2kDA1kjE2kDA1ji0yjy4zjy4zkDA1kDA1fjA0ZSstVjw9hSUqhSUqhSUqhCMohSUqhCMohCMogyIn"
    "gSEmgSEmgB8kgSEmgyAmeCUoaycqQBwekzI3ji0yji0yiikujCwwiyoviikuiyovji0yiikuhyYriygujywwijEzhTc4e09R"
    "kS0zjCwwiyoviyovjSkviyguiicsiCgsiikuhSUqhSUqhSUqhyQqgCUocR4hnW9xhyQqhyQqhyYrhiIohSEnhyQqhiIohSEn"
    "hCMogyIngyIngyInhCMofyQndyIjhVZXki81ki81kDA1jy4zji0yji0yjiswjCwwjCwwiikuiikuiCgsiCgshiksgicqaDIz"
    "hSEngyAmgB8kfx4jgCImgB8kgB8kgB8kgSEjgSEmfiAkex4ifR8jfiAkfR8jZyYqkDA1jy4zji0yiyovjCwwiyoviyoviiku"
    "jCwwiyoviSsvhikshikshiksiSsvcy0wgSMngiQohCYqhCMogyInhCMogiQogyIngSEmgB8kfiAkgCImfiAkfiAkfR8jax8i"
    "iCouhikshiksiyoviikuiikuhScrhyYrhSUqiCgshikshCYqhScrhikshiksfS0v"
)


def example_pixels() -> np.ndarray:
    """(16, 16, 3) uint8."""
    return np.frombuffer(base64.b64decode(PIXELS), dtype=np.uint8).reshape(16, 16, 3).copy()
