#!/usr/bin/env bash
# Stage 0 of egs/mini_espeak/vqvae1: the multi-speaker espeak corpus (data/espeak/, wavs under
# downloads/wav), the ZeroSpeech sets cut from it (data/{train_unit,dev,train_voice,dev_voice,test}:
# every voice's training speech for unit discovery, --voice's also as the target voice), the
# ABX triphone items of the test set from its phone alignments (data/local/test.item) and its
# transcripts (data/local/test.text: the references of the CER of the resynthesised speech;
# the sets stay without text).
set -euo pipefail

num_utts=2000           # utterances of the corpus
speakers=6              # espeak-ng voices (2 or more: ABX is across speakers)
voice=spk01             # the target voice of the Code2Spec inverter
seed=0                  # seed of the sentences and of the splits
dev_fraction=0.05       # share of the utterances in dev (dev_voice: those of --voice)
test_fraction=0.1       # share of the utterances in test (ABX and resynthesis)
nj=2                    # synthesis processes

help_message="Usage: $0 [--num-utts 2000] [--speakers 6] [--voice spk01] [--seed 0] [--dev-fraction 0.05] [--test-fraction 0.1] [--nj 2]"
. utils/parse_options.sh
if [ $# -ne 0 ]; then
    echo "${help_message}" >&2
    echo "$0: unexpected arguments: $*" >&2
    exit 2
fi

python -m chain.bin.make_espeak_corpus --out-dir data/espeak --wav-dir downloads/wav --num-utts "${num_utts}" \
    --speakers "${speakers}" --seed "${seed}" --nj "${nj}" \
    --dev-fraction "${dev_fraction}" --test-fraction "${test_fraction}"
python -m chain.bin.prepare_zerospeech19 --espeak-dir data/espeak --voice "${voice}" --out-dir data
mkdir -p data/local
python -m chain.bin.zs_items --ctm data/espeak/local/phones.ctm --utt2spk data/test/utt2spk --out data/local/test.item
cp data/espeak/test/text data/local/test.text
