#!/usr/bin/env bash
# Stage 0 of the LJSpeech recipe: download LJSpeech-1.1 (unless it is there) and
# write data/{train_full,train_paired,train_speech_only,train_text_only,dev,test}:
# shuffled 94/3/3 train/dev/test, train cut 30/35/35 into paired / speech-only /
# text-only (the machine speech chain paper, section III-D1; docs/data.md).
set -euo pipefail

db_dir=downloads        # where LJSpeech-1.1/ is (or is downloaded to)
url=https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2  # the official release
seed=0                  # seed of the shuffle and the splits
paired=0.30             # fraction of train that is paired
speech_only=0.35        # fraction of train that is speech-only (the rest is text-only)

help_message="Usage: $0 [--db-dir downloads] [--seed 0]"
. utils/parse_options.sh

corpus=${db_dir}/LJSpeech-1.1
if [ ! -f "${corpus}/metadata.csv" ]; then
    echo "$0: no ${corpus}/metadata.csv: downloading ${url}" >&2
    mkdir -p "${db_dir}"
    wget --continue -O "${db_dir}/LJSpeech-1.1.tar.bz2.part" "${url}"
    mv "${db_dir}/LJSpeech-1.1.tar.bz2.part" "${db_dir}/LJSpeech-1.1.tar.bz2"
    tar -xjf "${db_dir}/LJSpeech-1.1.tar.bz2" -C "${db_dir}"
fi

python -m chain.bin.prepare_ljspeech --db-dir "${corpus}" --out-dir data \
    --seed "${seed}" --paired "${paired}" --speech-only "${speech_only}"
