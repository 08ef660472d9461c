#!/usr/bin/env bash
# The embedded corpus in the multi-speaker setting (section IV of the machine speech chain paper, an analog of
# WSJ's SI84 paired / SI200 unpaired): 24 espeak-ng voices; train_paired from the first 10,
# train_speech_only from the next 12, test_seen from the paired voices and test_unseen
# from the last 2, found nowhere in training. Stage 3 trains the speaker encoder on the
# speaker labels of train_paired and train_speech_only (labels, not transcripts; the paper
# trains on SI84's speakers only, --spk-train-set train_paired, which does not generalise
# from 10 voices: RESULTS.md), the TTS is multi-speaker (--use-spk true; ../../TEMPLATE/chain1/chain.sh --help). Models,
# features and corpus script are those of ../chain1 (local/ and cmd.sh are links, and so are
# the files of conf/ but asr.yaml, which adds a guided attention loss: RESULTS.md).
set -euo pipefail

./chain.sh \
    --local-data-opts "--num-utts 3000 --speakers 24 --paired-speakers 10 --unseen-speakers 2" \
    --test-sets "test_seen test_unseen" \
    --use-spk true \
    --spk-train-set "train_paired train_speech_only" \
    --feats-conf conf/fbank.yaml \
    --token-type char \
    --nj 2 \
    "$@"
