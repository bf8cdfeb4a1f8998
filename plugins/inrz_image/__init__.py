"""The image plugin: an `image` modality (Pillow), the `kodak` dataset, and JPEG / WebP /
JPEG 2000 / AVIF baselines, MS-SSIM. Registered through the `inrz` entry point like any third-party plugin;
Pillow is imported only when an image is read, written or coded.
"""
from __future__ import annotations

from inrz import hookimpl

from .baselines import Avif, Jpeg, Jpeg2000, Webp
from .cifar import Cifar10
from .datasets import Kodak
from .metrics import MSSSIM
from .modality import ImageError, ImageModality

__all__ = ["Avif", "Cifar10", "ImageError", "ImageModality", "Jpeg", "Jpeg2000", "Kodak", "MSSSIM", "Webp"]


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


@hookimpl
def register_metrics(register):
    register(MSSSIM)
