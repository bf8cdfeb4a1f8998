"""The audio plugin: an `audio` modality (soundfile/libsndfile), the `librispeech` dataset, an
`snr` metric, and MP3 / Opus / Vorbis / FLAC baselines. Registered through the `inrz` entry
point like any third-party plugin; soundfile is imported only when audio is read, written or coded.
"""
from __future__ import annotations

from inrz import hookimpl

from .baselines import Flac, Mp3, Opus, Vorbis
from .datasets import LibriSpeech
from .metrics import SNR
from .modality import AudioError, AudioModality

__all__ = ["AudioError", "AudioModality", "Flac", "LibriSpeech", "Mp3", "Opus", "SNR", "Vorbis"]


@hookimpl
def register_modalities(register):
    register(AudioModality)


@hookimpl
def register_datasets(register):
    register(LibriSpeech)


@hookimpl
def register_metrics(register):
    register(SNR)


@hookimpl
def register_baselines(register):
    register(Mp3)
    register(Opus)
    register(Vorbis)
    register(Flac)
