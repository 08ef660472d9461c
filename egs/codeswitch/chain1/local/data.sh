#!/usr/bin/env bash
# Stage 0 of the codeswitch recipe: make the embedded corpus (no download). English,
# Japanese (kana) and Mandarin sentences and Ja-En / Zh-En (+ Ja-Zh with --num-jazh) code-switched sentences from
# grammars, spoken by espeak-ng voices (code-switched ones segment by segment), written as
# data/{train_paired,train_speech_only,train_text_only,train_full,dev,test_en,test_ja,
# test_zh,test_cs,test_zhen} (+ train_paired_<lang>), each with utt2lang, and
# data/local/chars.txt (the character inventory stage 2 reads).
set -euo pipefail

num_mono=300            # paired utterances per language
num_cs=300              # Ja-En code-switched utterances in each of speech-only and text-only
num_jazh=0              # Ja-Zh code-switched utterances added to each of them (ASRU 2019's multilingual chain)
num_text_extra=0        # Ja-En code-switched sentences added to train_text_only alone (never spoken)
num_dev=20              # dev utterances per language and of Ja-En code-switching
num_test=40             # utterances per test set
speakers=4              # espeak-ng voices per language and per code-switching pair (1..12)
seed=0                  # seed of the sentences
wav_dir=downloads/wav   # where the wavs go

help_message="Usage: $0 [--num-mono 300] [--num-cs 300] [--num-jazh 0] [--num-text-extra 0] [--num-dev 20] [--num-test 40] [--speakers 4] [--seed 0] [--wav-dir downloads/wav]"
. utils/parse_options.sh
if [ $# -ne 0 ]; then
    echo "${help_message}" >&2
    echo "$0: unexpected arguments: $*" >&2
    exit 2
fi

python -m chain.bin.make_codeswitch_corpus --out-dir data --wav-dir "${wav_dir}" \
    --num-mono "${num_mono}" --num-cs "${num_cs}" --num-jazh "${num_jazh}" --num-text-extra "${num_text_extra}" --num-dev "${num_dev}" --num-test "${num_test}" \
    --speakers "${speakers}" --seed "${seed}"
