#!/usr/bin/env bash
# LJSpeech, single speaker (section III of the machine speech chain paper): the paper's features
# (conf/fbank.yaml), character tokens, the 94/3/3 and 30/35/35 splits.
set -euo pipefail

./chain.sh \
    --feats-conf conf/fbank.yaml \
    --token-type char \
    --nj 8 \
    "$@"
