#!/usr/bin/env bash
# utils/split_chain_data.sh: cut prepared data dirs into the six sets of the speech chain.
#
# Contract: reads one or more paired data dirs (wav.scp + text) and writes
# <out-dir>/{train_full,train_paired,train_speech_only,train_text_only,dev,test}
# (train_speech_only without text, train_text_only without wav.scp), each dir written
# under a temp name and renamed; prints the utterances and speakers of each set.
# Defaults: 94/3/3 train/dev/test, train cut 30/35/35 paired/speech-only/text-only,
# seed 0. The options are those of python -m chain.bin.split_data (--help lists them),
# passed on unchanged; see docs/data.md. (Kaldi's utils/split_data.sh, which cuts a
# data dir into parts for parallel jobs, is utils/split_scp here.)
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "Usage: $0 [--out-dir data] [--by-speaker true] [--seed 0] <data-dir> [<data-dir> ...]" >&2
    echo "  e.g.: $0 --out-dir data data/all" >&2
    exit 2
fi
exec python -m chain.bin.split_data "$@"
