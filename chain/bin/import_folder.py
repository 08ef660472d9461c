"""Import a folder of audio files and a transcript file as one Kaldi data dir.

Audio: every file with one of --audio-ext under --audio-dir, at any depth and any
sample rate; its name without extension is its id. Transcripts: 'id|text' lines
(LJSpeech's metadata.csv; with more fields the last non-empty one is the text) or
Kaldi 'id text' lines. Writes OUT_DIR/{wav.scp,text,utt2spk,spk2utt,utt2dur} (absolute
paths; stage 1 resamples), with the text normalised to the paper's character set.
Logs what it skipped (audio without transcript, transcript without audio, unreadable
audio, empty text, text outside the set) with the first few names, and what it changed.
Next: python -m chain.bin.split_data (see docs/data.md).
Example:
  python -m chain.bin.import_folder --audio-dir /corpora/mine/wavs \
      --transcripts /corpora/mine/metadata.csv --speaker mine --out-dir data/all
"""
from __future__ import annotations

import logging

import configargparse

from chain.bin._args import make_parser, setup_logging, str2bool
from chain.corpora.folder import (AUDIO_EXTENSIONS, OUTSIDE_CHARSET, SPEAKER_RULES,
                                  TRANSCRIPT_FORMATS, import_folder)
from chain.data.datadir import replace_dir


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--audio-dir", required=True, help="folder of the audio files (searched at any depth)")
    parser.add_argument("--transcripts", required=True,
                        help="transcript file: 'id|text' lines or Kaldi 'id text' lines")
    parser.add_argument("--out-dir", default="data/all", help="the data dir written")
    parser.add_argument("--transcript-format", choices=TRANSCRIPT_FORMATS, default="auto",
                        help="pipe: 'id|text'; kaldi: 'id text'; auto: pipe if the first line has a '|'")
    parser.add_argument("--audio-ext", nargs="+", default=list(AUDIO_EXTENSIONS),
                        help="file extensions of the audio files (any format soundfile reads)")
    parser.add_argument("--speaker-from", choices=SPEAKER_RULES, default="single",
                        help="single: every utterance is --speaker's; dir: the first directory "
                             "under --audio-dir names the speaker (<audio-dir>/<speaker>/.../<id>.wav)")
    parser.add_argument("--speaker", default="spk", help="the speaker id of --speaker-from single")
    parser.add_argument("--utt2spk", default="",
                        help="a Kaldi utt2spk file keyed by the transcript ids (overrides --speaker-from)")
    parser.add_argument("--normalize", type=str2bool, default=True,
                        help="lowercase and map punctuation into the paper's character set "
                             "(chain.text.normalize)")
    parser.add_argument("--outside-charset", choices=OUTSIDE_CHARSET, default="drop",
                        help="transcripts with characters outside a-z ,:'?.- and space (digits, "
                             "symbols, other scripts): drop the utterance, delete the characters, "
                             "or keep them (for --token-type bpe/unigram)")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("import_folder")
    extensions = tuple(e if e.startswith(".") else f".{e}" for e in args.audio_ext)
    try:
        data, report = import_folder(args.audio_dir, args.transcripts, fmt=args.transcript_format,
                                     extensions=extensions, speaker_from=args.speaker_from,
                                     speaker=args.speaker, utt2spk=args.utt2spk or None,
                                     normalise=args.normalize, outside=args.outside_charset)
        replace_dir(data, args.out_dir)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"import_folder: error: {err}") from None
    for line in report.lines():
        logging.warning("%s", line)
    logging.info("%s: %d utterances of %d speakers (%d audio files, %d transcripts)", args.out_dir,
                 len(data.utts), len(set(data.utt2spk.values())), report.audio_files, report.transcripts)


if __name__ == "__main__":
    main()
