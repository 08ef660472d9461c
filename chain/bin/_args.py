"""Helpers shared by the entry points in chain/bin."""
from __future__ import annotations

import argparse
import logging
import sys
from collections import OrderedDict

import configargparse


def str2bool(value: str) -> bool:
    """Parse a CLI boolean written ``true`` or ``false`` (as in Kaldi/ESPnet recipes)."""
    lowered = str(value).lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise argparse.ArgumentTypeError(f"expected true or false: got {value!r}")


class YAMLConfigFileParser(configargparse.YAMLConfigFileParser):
    """YAML config files whose keys may spell an option with ``_`` for ``-``.

    ``win_length_ms: 50`` sets ``--win-length-ms``, so a config file can use the field
    names of a dataclass. Unknown keys are still rejected by configargparse.
    """

    def parse(self, stream):
        return OrderedDict((key.replace("_", "-"), value) for key, value in super().parse(stream).items())


def setup_logging(prog: str, level: int = logging.INFO) -> None:
    """Log to stderr as ``prog: message`` (``prog: warning: message`` for warnings)."""

    class _Formatter(logging.Formatter):
        def format(self, record):
            kind = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
            return f"{prog}: {kind}{record.getMessage()}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def add_strict_text_argument(parser: configargparse.ArgumentParser) -> None:
    """``--strict``: an unknown character in a text file is an error (chain.text.check_text_file)."""
    parser.add_argument("--strict", type=str2bool, default=False,
                        help="true: a character outside the token inventory is an error naming the "
                             "file:line of the first one; false: they are read as <unk>, counted "
                             "and reported")


class HelpFormatter(configargparse.RawDescriptionHelpFormatter,
                    configargparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's layout and shows every default."""


def make_parser(description: str) -> configargparse.ArgumentParser:
    """The parser of every entry point: ``--config`` YAML (keys with ``_`` or ``-``),
    defaults in ``--help``, and no prefix matching, so a misspelled option or config
    key is an error instead of silently setting a longer option."""
    parser = configargparse.ArgumentParser(
        description=description, formatter_class=HelpFormatter,
        config_file_parser_class=YAMLConfigFileParser, allow_abbrev=False)
    parser.add_argument("--config", is_config_file=True,
                        help="YAML file with any option below (keys may use _ for -)")
    return parser


def add_device_arguments(parser, num_threads: int = 1) -> None:
    """``--ngpu`` (0: CPU, 1: one GPU) and ``--num-threads`` (torch CPU threads)."""
    parser.add_argument("--ngpu", type=int, default=0, choices=(0, 1), help="0: CPU, 1: one GPU")
    parser.add_argument("--num-threads", type=int, default=num_threads, help="CPU threads of torch")
