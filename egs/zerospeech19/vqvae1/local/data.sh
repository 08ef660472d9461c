#!/usr/bin/env bash
# Stage 0 of egs/zerospeech19/vqvae1: data dirs of the official English release (train/unit,
# train/voice, test; dev and dev_voice held out of the training sets) and the ABX items of
# the test set, copied to data/local/test.item.
set -euo pipefail

db_dir=""               # folder holding the release's english/
item_file=""            # ABX items of the English test set (.item, e.g. byCtxt_acSpkr.item)
dev_fraction=0.02       # share of train/unit held out as dev (and at least 5% of train/voice as dev_voice)

help_message="Usage: $0 --db-dir DIR --item-file FILE [--dev-fraction 0.02]"
. utils/parse_options.sh
if [ $# -ne 0 ] || [ -z "${db_dir}" ] || [ -z "${item_file}" ]; then
    echo "${help_message}" >&2
    echo "$0: --db-dir and --item-file are required (set them in run.sh)" >&2
    exit 2
fi
if [ ! -f "${item_file}" ]; then
    echo "$0: ${item_file}: no such file (the ABX .item file of the English test set)" >&2
    exit 1
fi

python -m chain.bin.prepare_zerospeech19 --db-dir "${db_dir}" --dev-fraction "${dev_fraction}" --out-dir data
mkdir -p data/local
cp "${item_file}" data/local/test.item
