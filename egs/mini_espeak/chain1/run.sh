#!/usr/bin/env bash
# The embedded corpus: English sentences from a grammar, spoken by espeak-ng
# (no download). One speaker by default (section III of the machine speech chain paper); pass
# --local-data-opts "--speakers 10" for the multi-speaker setting.
set -euo pipefail

./chain.sh \
    --local-data-opts "--num-utts 3000 --speakers 1" \
    --feats-conf conf/fbank.yaml \
    --token-type char \
    --nj 2 \
    "$@"
