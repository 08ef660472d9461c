#!/usr/bin/env bash
# ZeroSpeech 2019 "TTS without T" on the embedded corpus: units discovered on espeak-ng speech
# of several voices, spoken back in one of them (spk01); ABX items from the corpus's phone
# alignments. The stages are those of egs/zerospeech19/vqvae1 (./vqvae.sh --help). Stage 6
# scores the resynthesised test speech with models of the multi-speaker recipe, e.g.
#   ./run.sh --stage 6 --stop-stage 6 --scoring-asr-exp ../multispk1/exp/asr_asr_train_full \
#       --scoring-spk-exp ../multispk1/exp/spk_spk_train_paired+train_speech_only
# (with --units kmeans:256:4 for K-Means units through Code2Spec: stages 3-6). The sentences
# are drawn with --seed 1: with multispk1's seed 0 they would be the first 2000 of that
# recipe's 3000, and its listener ASR would have been trained on the test sentences.
set -euo pipefail

./vqvae.sh \
    --local-data-opts "--num-utts 2000 --speakers 6 --voice spk01 --seed 1" \
    --feats-conf conf/fbank.yaml \
    --abx-args "--max-triplets-per-cell 20" \
    "$@"
