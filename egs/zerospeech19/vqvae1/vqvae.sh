#!/usr/bin/env bash
# Stages of the ZeroSpeech 2019 "TTS without T" recipe (the VQ-VAE paper of Tjandra et al., Interspeech 2019): discover units with a
# conditional VQ-VAE, speak them in the target voice with the Code2Spec inverter, score ABX
# and bitrate against the baselines. A recipe's run.sh sets its corpus options and calls this.
#   0 data preparation (local/data.sh): data/{train_unit,dev,train_voice,dev_voice,test},
#     data/local/test.item (ABX items)
#   1 features (MFCC, log-mel, log-linear) + CMVN   2 VQ-VAE training
#   3 Code2Spec training on the voice's units        4 encode test
#   5 resynthesise test (Griffin-Lim)                6 evaluate: ABX, bitrate, 2019 submission
#   7 baselines (direct features, K-Means, GMM): encode test and evaluate
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

# VQ-VAE (stages 2, 4)
vq_config=conf/vqvae.yaml  # model and training options (chain.bin.vq_train --config)
vq_tag=""               # experiment name; default: vq_<config name>
vq_args=""              # extra options for chain.bin.vq_train, e.g. "--stride 2 --num-codes 64"

# Code2Spec (stages 3, 5)
c2s_config=conf/code2spec.yaml  # inverter options (chain.bin.code2spec_train --config)
c2s_args=""             # extra options for chain.bin.code2spec_train
griffin_lim_iters=60    # Griffin-Lim iterations of stage 5

# Evaluation (stages 6, 7)
abx_args=""             # extra options for chain.bin.zs_eval, e.g. "--max-triplets-per-cell 50"
baselines="mfcc:0:1 logmel:0:1 kmeans:64:1 kmeans:256:4 gmm:64:1"  # method:clusters:stride of stage 7
max_fit_frames=200000   # K-Means / GMM: training frames fitted on at most

help_message=$(cat <<HELP
Usage: $0 [options]
  Runs stages --stage..--stop-stage of the ZeroSpeech 2019 recipe in the current directory.
  Stages: 0 data, 1 features, 2 VQ-VAE, 3 Code2Spec, 4 encode test, 5 resynthesis,
  6 evaluation, 7 baselines. e.g.: $0 --stage 2 --stop-stage 6 --vq-args "--stride 2"
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
c2s_exp=${vq_exp}/code2spec
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

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    log "stage 2: VQ-VAE: dump/train_unit -> ${vq_exp}"
    # shellcheck disable=SC2086
    ${train_cmd} --gpu "${ngpu}" "${vq_exp}/log/vq_train.log" \
        python -m chain.bin.vq_train --config "${vq_config}" --train-dir dump/train_unit \
            --train-utt2spk data/train_unit/utt2spk --dev-dir dump/dev --dev-utt2spk data/dev/utt2spk \
            --cmvn dump/train_unit/cmvn_mfcc.ark --exp-dir "${vq_exp}" --ngpu "${ngpu}" --resume true ${vq_args}
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "stage 3: Code2Spec: units of dump/{train_voice,dev_voice} -> ${c2s_exp}"
    python -m chain.bin.vq_encode --exp-dir "${vq_exp}" --data-dirs dump/train_voice dump/dev_voice \
        --out-dirs "${vq_exp}/units_train_voice" "${vq_exp}/units_dev_voice" --frame-shift "${frame_shift}"
    # shellcheck disable=SC2086
    ${train_cmd} --gpu "${ngpu}" "${c2s_exp}/log/code2spec_train.log" \
        python -m chain.bin.code2spec_train --config "${c2s_config}" \
            --train-units "${vq_exp}/units_train_voice" --train-dir dump/train_voice \
            --dev-units "${vq_exp}/units_dev_voice" --dev-dir dump/dev_voice \
            --cmvn-linear dump/train_voice/cmvn_linear.ark --exp-dir "${c2s_exp}" --ngpu "${ngpu}" \
            --resume true ${c2s_args}
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "stage 4: encode: dump/test -> ${vq_exp}/units_test"
    python -m chain.bin.vq_encode --exp-dir "${vq_exp}" --data-dirs dump/test --out-dirs "${vq_exp}/units_test" \
        --frame-shift "${frame_shift}"
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    log "stage 5: resynthesis: ${vq_exp}/units_test -> ${c2s_exp}/synth_test/wav"
    python -m chain.bin.code2spec_synth --exp-dir "${c2s_exp}" --units-dir "${vq_exp}/units_test" \
        --feats-conf "${feats_conf}" --out-dir "${c2s_exp}/synth_test" --griffin-lim-iters "${griffin_lim_iters}" \
        --target-speaker "$(cut -d' ' -f2 data/train_voice/utt2spk | sort -u | head -1)"
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    log "stage 6: evaluation: ${vq_exp}/units_test -> result.yaml, ${vq_exp}/submission"
    # shellcheck disable=SC2086
    python -m chain.bin.zs_eval --units-dir "${vq_exp}/units_test" --item-file data/local/test.item \
        --utt2dur dump/test/utt2dur --result "${vq_exp}/units_test/result.yaml" \
        --submission-dir "${vq_exp}/submission" ${abx_args}
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    log "stage 7: baselines ${baselines}: dump/test -> exp/baselines/*/units_test/result.yaml"
    for spec in ${baselines}; do
        IFS=: read -r method clusters stride <<< "${spec}"
        name=${method}_${stride}T
        if [ "${clusters}" -gt 0 ]; then name=${method}${clusters}_${stride}T; fi
        dir=exp/baselines/${name}
        python -m chain.bin.zs_baseline --method "${method}" --clusters "${clusters}" --stride "${stride}" \
            --fit-dir dump/train_unit --model "${dir}/model.npz" --max-fit-frames "${max_fit_frames}" \
            --data-dirs dump/test --out-dirs "${dir}/units_test" --frame-shift "${frame_shift}"
        # shellcheck disable=SC2086
        python -m chain.bin.zs_eval --units-dir "${dir}/units_test" --item-file data/local/test.item \
            --utt2dur dump/test/utt2dur --result "${dir}/units_test/result.yaml" ${abx_args}
    done
fi
log "done: ABX and bitrate in exp/*/units_test/result.yaml and exp/baselines/*/units_test/result.yaml"
