#!/usr/bin/env bash
# WSJ, many speakers (sections IV-D and V-C of the machine speech chain paper): SI-84 paired, SI-200 unpaired,
# SI-284 the upper bound, dev93 / eval92; the paper's features (conf/fbank.yaml) and
# its character set plus <noise>. Set the corpus paths in db.sh.
set -euo pipefail

./chain.sh \
    --feats-conf conf/fbank.yaml \
    --token-type char \
    --token-symbols "<noise>" \
    --nj 16 \
    "$@"
