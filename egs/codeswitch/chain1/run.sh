#!/usr/bin/env bash
# The code-switching speech chain (slides 001) on an embedded corpus spoken by espeak-ng
# (no download): monolingual English, Japanese and Mandarin paired data, Japanese-English
# code-switched speech-only and text-only data, and a Mandarin-English code-switched test
# set that no training set contains (zero-shot). Transcripts carry language tags
# (<en> <ja> <zh>): the ASR emits a character and its language per step, stage 6 scores
# LID accuracy next to the CER. Systems: ./run.sh --system baseline|chain|labelprop|upper;
# the control is ./run.sh --stage 5 --system chain --chain-tag control --chain-args "--ratio 1 0 0".
# The text-only set holds 1200 sentences, 900 of them never spoken (--num-text-extra: text is
# cheap); with the 300 alone the chain cut the Ja-En CS CER by 47%, with 1200 by 52% (RESULTS.md).
# A hanzi takes ~17 frames of speech (a kana ~9, a letter ~4), hence the TTS length cap of stage 7.
# Multi-speaker (each language has --speakers espeak-ng voices): ./run.sh --use-spk true
# --spk-train-set "train_paired train_speech_only" trains the speaker encoder of conf/spk.yaml
# in stage 3 on the voices of the paired and the code-switched speech-only sets, conditions
# the TTS on its vector (stages 4, 5) and makes stage 7 one-shot (spk_cos) and score the
# encoder (EER, identification accuracy); utils/show_results.sh exp shows all of it.
set -euo pipefail

./chain.sh \
    --local-data-opts "--num-mono 300 --num-cs 300 --num-text-extra 900 --num-dev 20 --num-test 40 --speakers 4" \
    --feats-conf conf/fbank.yaml \
    --token-type char \
    --token-chars data/local/chars.txt \
    --token-symbols "<en>,<ja>,<zh>" \
    --test-sets "test_en test_ja test_zh test_cs test_zhen" \
    --tts-decode-args "--max-frames-per-token 25" \
    --nj 2 \
    "$@"
