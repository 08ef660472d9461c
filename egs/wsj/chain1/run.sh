#!/usr/bin/env bash
# WSJ, many speakers (sections IV-D and V-C of the machine speech chain paper): SI-84 paired, SI-200 unpaired,
# SI-284 the upper bound, dev93 / eval92; the paper's features (conf/fbank.yaml) and
# its character set plus <noise>. Set the corpus paths in db.sh.
# The paper's multi-speaker system (section IV): stage 3 also trains the speaker encoder
# (conf/spk.yaml) on SI-84's 83 speakers, for every --system (upper too, as in the paper),
# and the TTS of stages 4, 5 and 7 is conditioned on its vectors (conf/tts.yaml).
# --use-spk false trains the single-speaker models of section III instead.
set -euo pipefail

./chain.sh \
    --feats-conf conf/fbank.yaml \
    --token-type char \
    --token-symbols "<noise>" \
    --use-spk true \
    --spk-train-set train_paired \
    --nj 16 \
    "$@"
