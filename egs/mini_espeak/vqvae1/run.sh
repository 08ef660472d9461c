#!/usr/bin/env bash
# ZeroSpeech 2019 "TTS without T" on the embedded corpus: units discovered on espeak-ng speech
# of several voices, spoken back in one of them (spk01); ABX items from the corpus's phone
# alignments. The stages are those of egs/zerospeech19/vqvae1 (./vqvae.sh --help).
set -euo pipefail

./vqvae.sh \
    --local-data-opts "--num-utts 2000 --speakers 6 --voice spk01" \
    --feats-conf conf/fbank.yaml \
    --abx-args "--max-triplets-per-cell 20" \
    "$@"
