"""The image plugin: an `image` modality (Pillow), the `kodak` dataset, JPEG / WebP (Pillow),
AVIF / JPEG XL / JPEG 2000 (imagecodecs) and HEVC (pillow-heif) baselines, MS-SSIM. Registered through the `inrz` entry point like any third-party plugin;
Pillow is imported only when an image is read, written or coded.
"""
from __future__ import annotations

from inrz import hookimpl

from .baselines import Jpeg, Webp
from .hevc import Hevc
from .cifar import Cifar10
from .datasets import Kodak
from .metrics import MSSSIM
from .modality import ImageError, ImageModality
from .strong import Avif, Jpeg2000, JpegXl

__all__ = ["Avif", "Cifar10", "Hevc", "ImageError", "ImageModality", "Jpeg", "Jpeg2000", "JpegXl", "Kodak", "MSSSIM",
           "Webp"]


@hookimpl
def register_modalities(register):
    register(ImageModality)


@hookimpl
def register_datasets(register):
    register(Kodak)
    register(Cifar10)


@hookimpl
def register_baselines(register):
    register(Jpeg)
    register(Webp)
    register(Jpeg2000)
    register(Avif)
    register(JpegXl)
    register(Hevc)


@hookimpl
def register_metrics(register):
    register(MSSSIM)
