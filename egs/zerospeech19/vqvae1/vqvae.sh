#!/usr/bin/env bash
# Stages of the ZeroSpeech 2019 "TTS without T" recipe (the VQ-VAE paper of Tjandra et al., Interspeech 2019): discover units with a
# conditional VQ-VAE, speak them in the target voice with the Code2Spec inverter, score ABX
# and bitrate against the baselines. A recipe's run.sh sets its corpus options and calls this.
#   0 data preparation (local/data.sh): data/{train_unit,dev,train_voice,dev_voice,test},
#     data/local/test.item (ABX items), data/local/test.text (transcripts, where the corpus has them)
#   1 features (MFCC, log-mel, log-linear) + CMVN   2 VQ-VAE training
#   3 Code2Spec training on the voice's units        4 encode test
#   5 resynthesise test (Griffin-Lim)                6 evaluate: ABX, bitrate, 2019 submission,
#     and the resynthesised speech by machine listeners: CER by an ASR, similarity to the voice
#   7 baselines (direct features, K-Means, GMM): encode test and evaluate
# Stages 2-6 run on the VQ-VAE's units, or (--units kmeans:256:4) on a baseline's: its units
# through the same Code2Spec, resynthesised and scored the same way.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}) $*" >&2
}

# General
stage=0                 # first stage to run
stop_stage=7            # last stage to run
ngpu=0                  # GPUs per training job (0: CPU, 1: one GPU)

# Data and features (stages 0, 1)
local_data_opts=""      # options passed to local/data.sh
feats_conf=conf/fbank.yaml  # window, hop, n_fft, n_mels of every feature (chain.bin.zs_feats)
sets="train_unit dev train_voice dev_voice test"  # data sets of stage 0

# Units of stages 2-6
units=vqvae             # vqvae (the VQ-VAE of --vq-tag) or a baseline of stage 7, e.g. kmeans:256:4

# VQ-VAE (stages 2, 4)
vq_config=conf/vqvae.yaml  # model and training options (chain.bin.vq_train --config)
vq_tag=""               # experiment name; default: vq_<config name>
vq_args=""              # extra options for chain.bin.vq_train, e.g. "--stride 2 --num-codes 64"

# Code2Spec (stages 3, 5)
c2s_config=conf/code2spec.yaml  # inverter options (chain.bin.code2spec_train --config)
c2s_args=""             # extra options for chain.bin.code2spec_train
griffin_lim_iters=60    # Griffin-Lim iterations of stage 5

# Evaluation (stages 6, 7)
abx_args=""             # extra options for chain.bin.zs_eval, e.g. "--max-triplets-per-cell 50", "--beam 1"
scoring_asr_exp=""      # ASR exp dir (asr_train, any recipe): CER of the resynthesised speech vs data/local/test.text
scoring_spk_exp=""      # speaker encoder exp dir (spk_train): cosine of the resynthesised speech and train_voice's mean
baselines="mfcc:0:1 logmel:0:1 kmeans:64:1 kmeans:256:4 gmm:64:1"  # method:clusters:stride of stage 7
max_fit_frames=200000   # K-Means / GMM: training frames fitted on at most

help_message=$(cat <<HELP
Usage: $0 [options]
  Runs stages --stage..--stop-stage of the ZeroSpeech 2019 recipe in the current directory.
  Stages: 0 data, 1 features, 2 VQ-VAE, 3 Code2Spec, 4 encode test, 5 resynthesis,
  6 evaluation, 7 baselines. e.g.: $0 --stage 2 --stop-stage 6 --vq-args "--stride 2"
  Stages 2-6 on K-Means units instead: $0 --stage 3 --stop-stage 6 --units kmeans:256:4
  Resynthesis scored by machine listeners (models of other recipes, each hearing the wavs
  through its own recipe's conf/fbank.yaml and CMVN; results in units_test/result.yaml and
  the table of utils/show_results.sh exp):
    $0 --stage 6 --scoring-asr-exp ../multispk1/exp/asr_asr_train_full \\
        --scoring-spk-exp ../multispk1/exp/spk_spk_train_paired+train_speech_only
HELP
)

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "unexpected arguments: $*"
    echo "${help_message}" >&2
    exit 2
fi
if ! [[ "${stage}${stop_stage}" =~ ^[0-9]+$ ]] || [ "${stage}" -gt "${stop_stage}" ] || [ "${stop_stage}" -gt 7 ]; then
    log "stages ${stage}..${stop_stage} requested: the stages are 0..7 and --stage must not exceed --stop-stage"
    exit 2
fi
vq_exp=exp/${vq_tag:-vq_$(basename "${vq_config}" .yaml)}
if [ "${units}" != vqvae ] && ! [[ "${units}" =~ ^[a-z]+:[0-9]+:[0-9]+$ ]]; then
    log "--units ${units}: expected vqvae or a baseline method:clusters:stride, e.g. kmeans:256:4"
    exit 2
fi

# baseline_dir METHOD:CLUSTERS:STRIDE: the exp dir of a baseline of stage 7 (exp/baselines/kmeans256_4T)
baseline_dir() {
    local method clusters stride
    IFS=: read -r method clusters stride <<< "$1"
    if [ "${clusters}" -gt 0 ]; then echo "exp/baselines/${method}${clusters}_${stride}T"
    else echo "exp/baselines/${method}_${stride}T"; fi
}

# encode UNITS SET...: units of dump/SET by UNITS (vqvae or a baseline spec) -> <its dir>/units_SET
encode() {
    local spec=$1 dir method clusters stride
    shift
    if [ "${spec}" = vqvae ]; then
        python -m chain.bin.vq_encode --exp-dir "${vq_exp}" --data-dirs "${@/#/dump/}" \
            --out-dirs "${@/#/${vq_exp}/units_}" --frame-shift "${frame_shift}"
        return
    fi
    dir=$(baseline_dir "${spec}")
    IFS=: read -r method clusters stride <<< "${spec}"
    python -m chain.bin.zs_baseline --method "${method}" --clusters "${clusters}" --stride "${stride}" \
        --fit-dir dump/train_unit --model "${dir}/model.npz" --max-fit-frames "${max_fit_frames}" \
        --data-dirs "${@/#/dump/}" --out-dirs "${@/#/${dir}/units_}" --frame-shift "${frame_shift}"
}

# evaluate DIR [OPTION...]: ABX and bitrate of DIR/units_test, with the scores of the speech
# resynthesised from them (DIR/code2spec/synth_test) -> DIR/units_test/result.yaml
evaluate() {
    local dir=$1 synth=$1/code2spec/synth_test scoring=()
    shift
    if [ -n "${scoring_asr_exp}${scoring_spk_exp}" ] && [ ! -s "${synth}/wav.scp" ]; then
        log "${synth}/wav.scp: no resynthesis of ${dir} (stages 3 and 5): not scored"
    elif [ -n "${scoring_asr_exp}${scoring_spk_exp}" ]; then
        scoring=(--synth-dir "${synth}")
        if [ -n "${scoring_asr_exp}" ]; then
            scoring+=(--asr-exp-dir "${scoring_asr_exp}" --text data/local/test.text)
        fi
        if [ -n "${scoring_spk_exp}" ]; then
            scoring+=(--spk-exp-dir "${scoring_spk_exp}" --voice-dir data/train_voice)
        fi
    fi
    # shellcheck disable=SC2086
    python -m chain.bin.zs_eval --units-dir "${dir}/units_test" --item-file data/local/test.item \
        --utt2dur dump/test/utt2dur --utt2spk data/test/utt2spk --result "${dir}/units_test/result.yaml" \
        "${scoring[@]}" "$@" ${abx_args}
}

unit_exp=${vq_exp}      # where the units of stages 3-6 and their Code2Spec go
if [ "${units}" != vqvae ]; then unit_exp=$(baseline_dir "${units}"); fi
c2s_exp=${unit_exp}/code2spec
frame_shift=$(awk -F: '$1 ~ /^hop[_-]length[_-]ms$/ {print $2 / 1000}' "${feats_conf}")  # seconds per frame
[ -n "${frame_shift}" ] || { log "${feats_conf}: no hop_length_ms"; exit 1; }

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    log "stage 0: data preparation: local/data.sh ${local_data_opts} -> data/"
    # shellcheck disable=SC2086
    local/data.sh ${local_data_opts}
    for dset in ${sets}; do
        utils/validate_data_dir.sh --no-text true --no-feats true "data/${dset}"
    done
    [ -s data/local/test.item ] || { log "data/local/test.item: missing or empty (local/data.sh writes it)"; exit 1; }
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "stage 1: features: data/{${sets// /,}} -> dump/ (mfcc, logmel, linear), CMVN"
    todo=()
    for dset in ${sets}; do
        if [ -s "dump/${dset}/utt2num_frames" ] && [ "dump/${dset}/utt2num_frames" -nt "data/${dset}/wav.scp" ] \
                && [ "dump/${dset}/utt2num_frames" -nt "${feats_conf}" ]; then
            log "dump/${dset}: features up to date, skipped"
        else
            todo+=("${dset}")
        fi
    done
    if [ ${#todo[@]} -gt 0 ]; then
        ${train_cmd} dump/log/zs_feats.log python -m chain.bin.zs_feats --feats-conf "${feats_conf}" \
            --data-dirs "${todo[@]/#/data/}" --out-dirs "${todo[@]/#/dump/}"
    fi
    python -m chain.bin.compute_cmvn dump/train_unit/mfcc.scp dump/train_unit/cmvn_mfcc.ark
    python -m chain.bin.compute_cmvn dump/train_voice/linear.scp dump/train_voice/cmvn_linear.ark
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ] && [ "${units}" != vqvae ]; then
    log "stage 2: --units ${units}: a baseline, fitted on dump/train_unit when first used (stage 3): nothing to train"
elif [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    log "stage 2: VQ-VAE: dump/train_unit -> ${vq_exp}"
    # shellcheck disable=SC2086
    ${train_cmd} --gpu "${ngpu}" "${vq_exp}/log/vq_train.log" \
        python -m chain.bin.vq_train --config "${vq_config}" --train-dir dump/train_unit \
            --train-utt2spk data/train_unit/utt2spk --dev-dir dump/dev --dev-utt2spk data/dev/utt2spk \
            --cmvn dump/train_unit/cmvn_mfcc.ark --exp-dir "${vq_exp}" --ngpu "${ngpu}" --resume true ${vq_args}
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "stage 3: Code2Spec: ${units} units of dump/{train_voice,dev_voice} -> ${c2s_exp}"
    encode "${units}" train_voice dev_voice
    # shellcheck disable=SC2086
    ${train_cmd} --gpu "${ngpu}" "${c2s_exp}/log/code2spec_train.log" \
        python -m chain.bin.code2spec_train --config "${c2s_config}" \
            --train-units "${unit_exp}/units_train_voice" --train-dir dump/train_voice \
            --dev-units "${unit_exp}/units_dev_voice" --dev-dir dump/dev_voice \
            --cmvn-linear dump/train_voice/cmvn_linear.ark --exp-dir "${c2s_exp}" --ngpu "${ngpu}" \
            --resume true ${c2s_args}
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "stage 4: encode: dump/test -> ${unit_exp}/units_test"
    encode "${units}" test
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    log "stage 5: resynthesis: ${unit_exp}/units_test -> ${c2s_exp}/synth_test/wav"
    python -m chain.bin.code2spec_synth --exp-dir "${c2s_exp}" --units-dir "${unit_exp}/units_test" \
        --feats-conf "${feats_conf}" --out-dir "${c2s_exp}/synth_test" --griffin-lim-iters "${griffin_lim_iters}" \
        --target-speaker "$(cut -d' ' -f2 data/train_voice/utt2spk | sort -u | head -1)"
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    log "stage 6: evaluation: ${unit_exp}/units_test (+ ${c2s_exp}/synth_test) -> result.yaml, ${unit_exp}/submission"
    evaluate "${unit_exp}" --submission-dir "${unit_exp}/submission"
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    log "stage 7: baselines ${baselines}: dump/test -> exp/baselines/*/units_test/result.yaml"
    for spec in ${baselines}; do
        encode "${spec}" test
        evaluate "$(baseline_dir "${spec}")"
    done
fi
if [ "${stop_stage}" -ge 6 ]; then
    utils/show_results.sh exp
fi
log "done: ABX, bitrate, resynthesis scores: exp/*/units_test/result.yaml, exp/baselines/*/units_test/result.yaml"
