#!/usr/bin/env bash
# Stage 0 of the mini_espeak recipe: make the embedded corpus (no download). Sentences
# from a small grammar are spoken by espeak-ng voices (16 kHz wavs under downloads/wav)
# and written as data/{train_paired,train_speech_only,train_text_only,train_full,dev,test}
# plus data/local/phones.ctm (phone alignments). With --speakers 10 or more, the last
# two speakers are held out as test. With --paired-speakers N (the multi-speaker setting,
# egs/mini_espeak/multispk1) the first N voices are paired, the last --unseen-speakers
# only in test_unseen, the others speech-only; test_seen replaces test. Re-running
# reuses the wavs already made.
set -euo pipefail

num_utts=3000           # number of utterances (each a distinct sentence)
speakers=1              # number of espeak-ng voices (1..36); 1 = single-speaker setting
seed=0                  # seed of the sentences and of the splits
nj=2                    # number of synthesis processes
wav_dir=downloads/wav   # where the wavs go
paired_speakers=0       # multi-speaker setting: voices of the paired data (0: off)
unseen_speakers=2       # multi-speaker setting: voices heard only in test_unseen

help_message="Usage: $0 [--num-utts 3000] [--speakers 1] [--seed 0] [--nj 2] [--wav-dir downloads/wav] [--paired-speakers 0] [--unseen-speakers 2]"
. utils/parse_options.sh
if [ $# -ne 0 ]; then
    echo "${help_message}" >&2
    echo "$0: unexpected arguments: $*" >&2
    exit 2
fi

python -m chain.bin.make_espeak_corpus --out-dir data --wav-dir "${wav_dir}" \
    --num-utts "${num_utts}" --speakers "${speakers}" --seed "${seed}" --nj "${nj}" \
    --paired-speakers "${paired_speakers}" --unseen-speakers "${unseen_speakers}"
