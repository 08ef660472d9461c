"""Installs the `chain` package and one `chain-NAME` console script per `chain.bin.NAME`."""
from pathlib import Path

from setuptools import find_packages, setup

BIN = Path(__file__).parent / "chain" / "bin"
SCRIPTS = sorted(p.stem for p in BIN.glob("*.py") if not p.stem.startswith("_"))

setup(
    name="chain",
    version="0.1.0",
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
        "setuptools>=77.0.3,<81",
    ],
    entry_points={"console_scripts": [f"chain-{s}=chain.bin.{s}:main" for s in SCRIPTS]},
)
