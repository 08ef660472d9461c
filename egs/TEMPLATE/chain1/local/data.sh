#!/usr/bin/env bash
# Stage 0 of this recipe: a folder of audio files and a transcript file -> the six data
# dirs the stages read, data/{train_full,train_paired,train_speech_only,train_text_only,
# dev,test} (docs/data.md), in two steps:
#   1. chain.bin.import_folder: audio (wav, flac, any rate, any depth) + transcripts
#      ('id|text' as LJSpeech's metadata.csv, or Kaldi 'id text') -> data/all,
#      text normalised to the paper's character set, skips counted and named;
#   2. chain.bin.split_data: data/all -> 94/3/3 train/dev/test, train cut 30/35/35 into
#      paired / speech-only / text-only (--by-speaker true for multi-speaker corpora).
# Set corpus_dir below (or pass --local-data-opts "--corpus-dir DIR" to run.sh); the
# rest has defaults for the layout <corpus_dir>/wavs/*.wav + <corpus_dir>/metadata.csv.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}) $*" >&2
}

corpus_dir=""           # the corpus: the directory holding audio_dir and transcripts (set this)
audio_dir=wavs          # folder of the audio files, relative to corpus_dir
transcripts=metadata.csv  # transcript file relative to corpus_dir: 'id|text' or Kaldi 'id text' lines
speaker_from=single     # single: one speaker; dir: <audio_dir>/<speaker>/.../<id>.wav
speaker=spk             # the speaker id with --speaker-from single
outside_charset=drop    # transcripts with characters outside a-z ,:'?.- and space: drop, delete or keep
by_speaker=false        # true: split speakers (dev/test speakers unseen, paired and unpaired speakers apart)
dev=0.03                # fraction for dev (of the utterances; of the speakers with --by-speaker true)
test=0.03               # fraction for test
paired=0.30             # fraction of train_full that is paired
speech_only=0.35        # fraction of train_full that is speech only (the rest is text only)
seed=0                  # seed of the split

help_message="Usage: $0 [--corpus-dir DIR] [options]
  e.g.: $0 --corpus-dir /corpora/mine --speaker-from dir --by-speaker true"
. utils/parse_options.sh
if [ $# -ne 0 ]; then
    echo "${help_message}" >&2
    echo "$0: unexpected arguments: $*" >&2
    exit 2
fi
if [ -z "${corpus_dir}" ] || [ ! -d "${corpus_dir}" ]; then
    log "no corpus directory '${corpus_dir}': set corpus_dir in $0 (or pass --corpus-dir DIR)"
    exit 1
fi

log "import ${corpus_dir}/${audio_dir} + ${corpus_dir}/${transcripts} -> data/all"
python -m chain.bin.import_folder --audio-dir "${corpus_dir}/${audio_dir}" \
    --transcripts "${corpus_dir}/${transcripts}" --speaker-from "${speaker_from}" \
    --speaker "${speaker}" --outside-charset "${outside_charset}" --out-dir data/all

log "split data/all -> data/{train_full,train_paired,train_speech_only,train_text_only,dev,test}"
python -m chain.bin.split_data --out-dir data --dev "${dev}" --test "${test}" --paired "${paired}" \
    --speech-only "${speech_only}" --by-speaker "${by_speaker}" --seed "${seed}" data/all
