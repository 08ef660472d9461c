#!/usr/bin/env bash
# Stage 0 of the mini_espeak recipe: make the embedded corpus (no download). Sentences
# from a small grammar are spoken by espeak-ng voices (16 kHz wavs under downloads/wav)
# and written as data/{train_paired,train_speech_only,train_text_only,train_full,dev,test}
# plus data/local/phones.ctm (phone alignments). With --speakers 10 or more, the last
# two speakers are held out as test. Re-running reuses the wavs already made.
set -euo pipefail

num_utts=3000           # number of utterances (each a distinct sentence)
speakers=1              # number of espeak-ng voices (1..36); 1 = single-speaker setting
seed=0                  # seed of the sentences and of the splits
nj=2                    # number of synthesis processes
wav_dir=downloads/wav   # where the wavs go

help_message="Usage: $0 [--num-utts 3000] [--speakers 1] [--seed 0] [--nj 2] [--wav-dir downloads/wav]"
. utils/parse_options.sh
if [ $# -ne 0 ]; then
    echo "${help_message}" >&2
    echo "$0: unexpected arguments: $*" >&2
    exit 2
fi

python -m chain.bin.make_espeak_corpus --out-dir data --wav-dir "${wav_dir}" \
    --num-utts "${num_utts}" --speakers "${speakers}" --seed "${seed}" --nj "${nj}"
