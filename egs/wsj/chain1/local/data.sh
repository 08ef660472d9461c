#!/usr/bin/env bash
# Stage 0 of the WSJ recipe: the LDC discs of WSJ0 and WSJ1 (paths in db.sh) ->
# data/{train_full,train_paired,train_speech_only,train_text_only,dev,test}:
# train_paired = SI-84 (without speaker 401), train_full = SI-284, the unpaired sets
# from SI-200, dev = dev93, test = eval92 (chain.bin.prepare_wsj; README.md).
# The SPHERE decoder is checked on one file before anything else is written.
set -euo pipefail

. ./db.sh
wsj0=${WSJ0}            # WSJ0 (LDC93S6B): the directory holding its discs
wsj1=${WSJ1}            # WSJ1 (LDC94S13B): the directory holding its discs
sph2pipe=${SPH2PIPE}    # SPHERE decoder, a program on PATH or a path
unpaired=same           # same: SI-200 audio speech-only and its text text-only (the paper); disjoint: speaker halves
seed=0                  # seed of the speaker halves of --unpaired disjoint
spkrinfo=""             # a further spkrinfo.txt with genders (LDC's wsj0-train-spkrinfo.txt), optional

help_message="Usage: $0 [--wsj0 DIR] [--wsj1 DIR] [--sph2pipe PROGRAM] [--unpaired same|disjoint]"
. utils/parse_options.sh
if [ $# -ne 0 ]; then
    echo "${help_message}" >&2
    echo "$0: unexpected arguments: $*" >&2
    exit 2
fi

python -m chain.bin.prepare_wsj --wsj0 "${wsj0}" --wsj1 "${wsj1}" --sph2pipe "${sph2pipe}" \
    --unpaired "${unpaired}" --seed "${seed}" ${spkrinfo:+--spkrinfo "${spkrinfo}"} --out-dir data
