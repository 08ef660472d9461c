#!/usr/bin/env bash
# ZeroSpeech 2019 English ("TTS without T", the VQ-VAE paper of Tjandra et al., Interspeech 2019): the official release. Stage 0 needs
# the release's english/ under --db-dir and the ABX items of its test set (--item-file); the
# stages live in vqvae.sh (see ./vqvae.sh --help).
set -euo pipefail

./vqvae.sh \
    --local-data-opts "--db-dir /path/to/zerospeech2019 --item-file /path/to/byCtxt_acSpkr.item" \
    --feats-conf conf/fbank.yaml \
    "$@"
