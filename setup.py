"""Installs the `chain` package and one `chain-NAME` console script per `chain.bin.NAME`."""
import re
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = Path(__file__).parent / "chain"
BIN = PACKAGE / "bin"
VERSION = re.search(r'^__version__ = "(.+)"$', (PACKAGE / "__init__.py").read_text(), re.M).group(1)
SCRIPTS = sorted(p.stem for p in BIN.glob("*.py") if not p.stem.startswith("_"))

setup(
    name="chain",
    version=VERSION,
    description="Recipes for the machine speech chain: ASR and TTS that teach each other",
    python_requires=">=3.11",
    packages=find_packages(include=["chain", "chain.*"]),
    install_requires=[
        "torch==2.13.0",
        "kaldiio",
        "sentencepiece",
        "librosa>=0.11,<0.12",
        "pyworld",
        "configargparse",
        "threadpoolctl",
        "editdistance",
        "soundfile",
        "espeakng-loader",
        "tensorboard",
        "tqdm",
        "matplotlib",
        "pyyaml",
        "scikit-learn",
        "setuptools>=77.0.3,<81",
    ],
    entry_points={"console_scripts": [f"chain-{s}=chain.bin.{s}:main" for s in SCRIPTS]},
)
