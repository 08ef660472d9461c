#!/usr/bin/env bash
# The stages shared by every chain recipe (docs/data.md). A recipe's run.sh
# sets its corpus options and calls this script; the stage numbers mean the same
# in every recipe:
#   0 data preparation (local/data.sh)   1 features + CMVN   2 token inventory
#   3 ASR training (+ speaker encoder)   4 TTS training   5 speech chain (or label propagation)
#   6 ASR decoding + scoring   7 TTS synthesis + evaluation
# --system picks what stages 3-7 train and evaluate:
#   baseline   ASR and TTS on train_paired only (stage 5 does nothing)
#   upper      ASR and TTS on train_full, all of it paired: the upper bound
#   labelprop  baseline, then stage 5 transcribes train_speech_only with the baseline
#              ASR (beam search) and trains both models further on paired + pseudo-labelled
#   chain      baseline, then stage 5 trains the speech chain (Algorithm 1)
#   chain_st   chain with straight-through feedback (--st, --tau)
# --use-spk true makes it the multi-speaker speech chain (section IV of the machine speech chain paper): stage 3
# also trains a speaker encoder on the utt2spk labels of --spk-train-set, the TTS of
# stages 4-5 is conditioned on its vectors (one-shot: stage 7 speaks each test sentence
# in the voice of another utterance of its speaker) and stage 7 scores the encoder.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}) $*" >&2
}

# General
stage=0                 # first stage to run
stop_stage=7            # last stage to run
system=baseline         # baseline, upper, labelprop, chain or chain_st (see above)
nj=4                    # parallel jobs for feature extraction and decoding
ngpu=0                  # GPUs per training job (0: CPU; N > 1: one process per GPU, torchrun or srun)

# Data (stage 0)
local_data_opts=""      # options passed to local/data.sh, e.g. "--num-utts 500"
train_set=train_full    # training speech whose features are extracted; the chain subsets are cut from it
dev_set=dev             # development set
test_sets="test"        # evaluation sets
speech_subsets="train_paired train_speech_only"  # subsets of train_set with speech (features filtered, not recomputed)

# Features (stage 1)
feats_conf=conf/fbank.yaml  # feature configuration (chain.bin.feat_extract --config)
cmvn_set=train_paired   # speech the global CMVN stats are computed on (never text-only speech)
strict=false            # true: a wav at another sampling rate (stage 1) or a character outside the
                        # token inventory in any set's text (stage 2) is an error, not resampled / counted

# Tokens (stage 2)
token_type=char         # char (the papers' character set), bpe or unigram (sentencepiece)
vocab_size=100          # sentencepiece vocabulary size (bpe/unigram only)
token_sets="train_paired train_text_only"  # data sets whose text the token inventory is built from
token_symbols=""        # comma-separated whole tokens of the transcripts, e.g. "<noise>" (WSJ), "<en>,<ja>" (language tags)
token_chars=""          # char only: file whose characters are the inventory (e.g. kana, hanzi, a-z); empty: the paper's

# ASR (stages 3, 6)
asr_config=conf/asr.yaml  # model and training options (chain.bin.asr_train --config)
asr_train_set=""        # paired set the ASR is trained on; default: train_full for --system upper, else train_paired
asr_tag=""              # experiment name; default: asr_<config name>_<train set>
asr_args=""             # extra options for chain.bin.asr_train, e.g. "--epochs 5"
asr_checkpoint=best.pt  # checkpoint decoded in stages 6 and 7 (best.pt or avg<N>.pt)
beam=5                  # beam size of ASR decoding (1: greedy)

# TTS (stages 4, 7)
tts_config=conf/tts.yaml  # model and training options (chain.bin.tts_train --config)
tts_train_set=""        # paired set the TTS is trained on; default as --asr-train-set
tts_tag=""              # experiment name; default: tts_<config name>_<train set>[_<speaker encoder exp>]
tts_args=""             # extra options for chain.bin.tts_train
tts_checkpoint=best.pt  # checkpoint synthesised with in stage 7
griffin_lim_iters=60    # Griffin-Lim iterations of stage 7
tts_decode_args=""      # extra options for chain.bin.tts_decode, e.g. "--max-frames-per-token 25"
scoring_asr_exp=""      # ASR that transcribes the synthetic speech in stage 7; default: the system's

# Speaker encoder (stage 3; the multi-speaker TTS of stages 4, 5 and 7)
use_spk=false           # true: train a speaker encoder and make the TTS multi-speaker (section IV)
spk_config=conf/spk.yaml  # model and training options (chain.bin.spk_train --config)
spk_train_set=""        # set(s) whose utt2spk labels train the encoder, e.g. "train_paired train_speech_only"
                        # (several: combined into dump/<a>+<b>); default: the ASR's training set
spk_tag=""              # experiment name; default: spk_<config name>_<train set>
spk_args=""             # extra options for chain.bin.spk_train

# Speech chain and label propagation (stage 5)
chain_config=conf/chain.yaml  # chain options (chain.bin.chain_train --config)
chain_tag=""            # experiment name; default: <system>_<chain config name>[_<speaker encoder exp>] (labelprop: labelprop_<ASR train set>, its training set in exp/<tag>/data/)
chain_args=""           # extra options for chain.bin.chain_train, e.g. "--epochs 3"
st=gumbel               # chain_st: straight-through estimator, argmax or gumbel
tau=1.0                 # chain_st: temperature of the straight-through softmax
labelprop_args=""       # extra options for asr_train and tts_train in label propagation, e.g. "--epochs 3"

help_message=$(cat <<EOF
Usage: $0 [options]
  Runs stages --stage..--stop-stage of the chain recipe in the current directory.
  Stages: 0 data preparation, 1 features and CMVN, 2 token inventory,
  3 ASR training, 4 TTS training, 5 speech chain / label propagation,
  6 ASR decoding and scoring, 7 TTS synthesis and evaluation.
  --system baseline|upper|labelprop|chain|chain_st picks what stages 3-7 train and evaluate;
  --use-spk true makes the TTS multi-speaker (speaker encoder trained in stage 3).
  e.g.: $0 --stage 3 --stop-stage 7 --system chain
EOF
)

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "unexpected arguments: $*"
    echo "${help_message}" >&2
    exit 2
fi
for s in "${stage}" "${stop_stage}"; do
    if ! [[ "${s}" =~ ^[0-9]+$ ]]; then
        log "--stage and --stop-stage take a stage number: got '${s}'"
        exit 2
    fi
done
if [ "${stage}" -gt "${stop_stage}" ] || [ "${stop_stage}" -gt 7 ]; then
    log "stages ${stage}..${stop_stage} requested: the stages are 0..7 and --stage must not exceed --stop-stage"
    exit 2
fi
case "${system}" in
    upper) pretrain_set=train_full ;;
    baseline|labelprop|chain|chain_st) pretrain_set=train_paired ;;
    *) log "--system must be baseline, upper, labelprop, chain or chain_st: got '${system}'"; exit 2 ;;
esac
asr_train_set=${asr_train_set:-${pretrain_set}}
tts_train_set=${tts_train_set:-${pretrain_set}}
asr_exp=exp/${asr_tag:-asr_$(basename "${asr_config}" .yaml)_${asr_train_set}}
case "${use_spk}" in
    true)
        spk_train_set=${spk_train_set:-${asr_train_set}}
        spk_train_dir=dump/${spk_train_set// /+}
        spk_exp=exp/${spk_tag:-spk_$(basename "${spk_config}" .yaml)_${spk_train_set// /+}}
        spk_opts="--spk-exp-dir ${spk_exp}"; spk_suffix=_${spk_exp#exp/} ;;
    false) spk_exp=""; spk_opts=""; spk_suffix="" ;;
    *) log "--use-spk must be true or false: got '${use_spk}'"; exit 2 ;;
esac
tts_exp=exp/${tts_tag:-tts_$(basename "${tts_config}" .yaml)_${tts_train_set}${spk_suffix}}
# The models stages 6 and 7 evaluate: stage 5's for the systems that have one.
case "${system}" in
    baseline|upper) chain_exp=""; eval_asr_exp=${asr_exp}; eval_tts_exp=${tts_exp} ;;
    labelprop) chain_exp=exp/${chain_tag:-labelprop_${asr_train_set}${spk_suffix}} ;;
    chain) chain_exp=exp/${chain_tag:-chain_$(basename "${chain_config}" .yaml)${spk_suffix}} ;;
    chain_st) chain_exp=exp/${chain_tag:-chain_st_${st}_tau${tau}_$(basename "${chain_config}" .yaml)${spk_suffix}} ;;
esac
if [ -n "${chain_exp}" ]; then
    eval_asr_exp=${chain_exp}/asr
    eval_tts_exp=${chain_exp}/tts
fi
scoring_asr_exp=${scoring_asr_exp:-${eval_asr_exp}}

# validate DIR [OPTS]: utils/validate_data_dir.sh, told which of text/wav.scp DIR lacks by design.
validate() {
    local dir=$1; shift
    local opts=("$@")
    [ -f "${dir}/text" ] || opts+=(--no-text true)
    [ -f "${dir}/wav.scp" ] || opts+=(--no-wav true --no-feats true)
    utils/validate_data_dir.sh "${opts[@]}" "${dir}"
}

# copy_data_files SRC DST: the Kaldi data dir files of SRC (those it has) into DST.
copy_data_files() {
    local f
    for f in utt2spk spk2utt text wav.scp segments utt2gender spk2gender; do
        if [ -f "$1/${f}" ]; then cp "$1/${f}" "$2/${f}"; fi
    done
}

# feats_inputs_hash SRC: one checksum of what determines the features of data dir SRC: its
# wav.scp, segments and utt2spk, the feature config and --strict (not the audio files' bytes).
feats_inputs_hash() {
    local f
    {
        echo "strict=${strict}"
        cat "${feats_conf}"
        for f in wav.scp segments utt2spk; do
            if [ -f "$1/${f}" ]; then echo "== ${f}"; cat "$1/${f}"; fi
        done
    } | sha256sum | cut -d' ' -f1
}

# clean_tmp DIR: remove the temp files (*.tmp, .*.tmp) that a killed writer left in DIR.
clean_tmp() {
    local n
    if [ ! -d "$1" ]; then return 0; fi
    n=$(find "$1" -maxdepth 1 -type f -name '*.tmp' -print -delete | wc -l)
    if [ "${n}" -gt 0 ]; then log "$1: removed ${n} temp file(s) left by a killed run"; fi
}

# Sets with speech (features) and the sets among them that get features computed.
extract_sets="${train_set} ${dev_set} ${test_sets}"

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    log "stage 0: data preparation: local/data.sh ${local_data_opts} -> data/"
    # shellcheck disable=SC2086
    local/data.sh ${local_data_opts}
    for dset in $(echo ${extract_sets} ${speech_subsets} ${token_sets} | tr ' ' '\n' | sort -u); do
        validate "data/${dset}" --no-feats true
    done
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "stage 1: features: data/{${extract_sets// /,}} -> dump/, CMVN on ${cmvn_set} -> data/cmvn.ark"
    mkdir -p dump
    # One stage 1 at a time in a recipe: this shell and every job it starts hold the lock,
    # so a re-run waits until the jobs of a killed run have ended (run.pl stops them).
    exec {stage1_lock}>dump/.stage1.lock
    if ! flock -w 60 "${stage1_lock}"; then
        log "dump/.stage1.lock: another stage 1 (or a job of one) still runs in this recipe after 60 s;" \
            "wait for it or stop it (fuser -v dump/.stage1.lock lists its processes)"
        exit 1
    fi
    clean_tmp data
    run_id=$(date +%Y%m%dT%H%M%S).$$  # names this run's arks, which no other run writes
    for dset in ${extract_sets}; do
        src=data/${dset}
        out=dump/${dset}
        stamp=$(feats_inputs_hash "${src}")
        if [ -f "${out}/.done" ] && [ "$(cat "${out}/.done")" = "${stamp}" ]; then
            if problem=$(python -m chain.bin.check_feats "${out}" 2>&1); then
                clean_tmp "${out}"
                log "${out}: features up to date, skipped"
                continue
            fi
            log "${out}: features incomplete, extracting them again: ${problem}"
        fi
        rm -rf "${out}"
        num_utts=$(wc -l < "${src}/utt2spk")
        set_nj=$(( nj < num_utts ? nj : num_utts ))
        arks=${out}/data.${run_id}
        mkdir -p "${out}/log" "${arks}" "${out}/split${set_nj}"
        # The per-utterance list that is split into jobs: segments if there are any.
        if [ -f "${src}/segments" ]; then
            list=segments
            seg_opt="--segments ${out}/split${set_nj}/segments.JOB"
        else
            list=wav.scp
            seg_opt=""
        fi
        split_files=$(for n in $(seq "${set_nj}"); do echo "${out}/split${set_nj}/${list%.scp}.${n}"; done)
        # shellcheck disable=SC2086
        utils/split_scp "${src}/${list}" ${split_files}
        if [ "${list}" = wav.scp ]; then
            wav_opt="--wav-scp ${out}/split${set_nj}/wav.JOB"
        else
            wav_opt="--wav-scp ${src}/wav.scp"
        fi
        log "${src}: extracting features in ${set_nj} jobs, logs in ${out}/log/"
        # shellcheck disable=SC2086
        ${train_cmd} JOB=1:"${set_nj}" "${out}/log/feat_extract.JOB.log" \
            python -m chain.bin.feat_extract --config "${feats_conf}" ${wav_opt} ${seg_opt} \
                --out-dir "${arks}" --job JOB --strict "${strict}"
        # dump/<set> is a copy of the data dir plus its features.
        copy_data_files "${src}" "${out}"
        for f in feats.scp linear.scp utt2num_frames utt2dur; do
            for n in $(seq "${set_nj}"); do cat "${arks}/${f%.scp}.${n}${f#"${f%.scp}"}"; done \
                | sort > "${out}/${f}.tmp"
            mv "${out}/${f}.tmp" "${out}/${f}"
        done
        validate "${out}"
        python -m chain.bin.check_feats "${out}"  # every utterance has a readable matrix
        echo "${stamp}" > "${out}/.done.tmp"
        mv "${out}/.done.tmp" "${out}/.done"
    done

    for dset in ${speech_subsets}; do
        out=dump/${dset}
        log "${out}: features of data/${dset} taken from dump/${train_set}"
        rm -rf "${out}"
        mkdir -p "${out}"
        copy_data_files "data/${dset}" "${out}"
        for f in feats.scp linear.scp utt2num_frames utt2dur; do
            utils/filter_scp "data/${dset}/utt2spk" "dump/${train_set}/${f}" > "${out}/${f}.tmp"
            mv "${out}/${f}.tmp" "${out}/${f}"
        done
        validate "${out}"
        python -m chain.bin.check_feats "${out}"
    done

    log "global CMVN stats on dump/${cmvn_set} -> data/cmvn.ark, data/cmvn_linear.ark"
    python -m chain.bin.compute_cmvn "dump/${cmvn_set}/feats.scp" data/cmvn.ark
    python -m chain.bin.compute_cmvn "dump/${cmvn_set}/linear.scp" data/cmvn_linear.ark
    exec {stage1_lock}>&-  # later stages do not hold it
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    log "stage 2: token inventory (${token_type}) from {${token_sets// /,}} -> data/lang/"
    clean_tmp data/lang
    texts=$(for dset in ${token_sets}; do echo "data/${dset}/text"; done)
    # every other set with text is checked against the inventory too (dev and test included)
    checks=$(for dset in $(echo ${extract_sets} ${speech_subsets} | tr ' ' '\n' | sort -u); do
        case " ${token_sets} " in *" ${dset} "*) continue ;; esac
        if [ -f "data/${dset}/text" ]; then echo "--check-only data/${dset}/text"; fi
    done)
    # shellcheck disable=SC2086
    python -m chain.bin.make_units --token-type "${token_type}" --vocab-size "${vocab_size}" \
        --symbols "${token_symbols}" --chars "${token_chars}" --strict "${strict}" --out-dir data/lang ${texts} ${checks}
fi

# Training jobs: "python -m" for --ngpu 0 or 1; for N > 1, N processes of one GPU each,
# started by torchrun (cmd_backend=local) or srun in a Slurm job of N tasks (cmd_backend=slurm).
if [ "${ngpu}" -le 1 ]; then
    train_opts="--gpu ${ngpu}"; proc_ngpu=${ngpu}; launcher="python -m"
elif [ "${cmd_backend:-local}" = slurm ]; then
    train_opts="--gpu ${ngpu} --num-tasks ${ngpu}"; proc_ngpu=1; launcher="srun python -m"
else
    train_opts="--gpu ${ngpu} --num-tasks ${ngpu}"; proc_ngpu=1
    launcher="torchrun --standalone --nproc_per_node ${ngpu} -m"
fi

# train_asr TRAIN_DIR EXP_DIR [OPTION...]: chain.bin.asr_train (stages 3 and 5).
train_asr() {
    local train_dir=$1 exp=$2; shift 2
    # shellcheck disable=SC2086
    ${train_cmd} ${train_opts} "${exp}/log/asr_train.log" \
        ${launcher} chain.bin.asr_train --config "${asr_config}" \
            --train-dir "${train_dir}" --dev-dir "dump/${dev_set}" \
            --lang-dir data/lang --cmvn data/cmvn.ark --exp-dir "${exp}" \
            --ngpu "${proc_ngpu}" --resume true ${asr_args} "$@"
    tail -n 1 "${exp}/train.log" >&2
}

# train_tts TRAIN_DIR EXP_DIR [OPTION...]: chain.bin.tts_train (stages 4 and 5; multi-speaker
# with --use-spk true).
train_tts() {
    local train_dir=$1 exp=$2; shift 2
    # shellcheck disable=SC2086
    ${train_cmd} ${train_opts} "${exp}/log/tts_train.log" \
        ${launcher} chain.bin.tts_train --config "${tts_config}" \
            --train-dir "${train_dir}" --dev-dir "dump/${dev_set}" \
            --lang-dir data/lang --cmvn data/cmvn.ark --cmvn-linear data/cmvn_linear.ark \
            --exp-dir "${exp}" --ngpu "${proc_ngpu}" --resume true ${spk_opts} ${tts_args} "$@"
    tail -n 1 "${exp}/train.log" >&2
}

# recognize DATA_DIR ASR_EXP OUT_DIR: beam search of DATA_DIR with ASR_EXP/${asr_checkpoint}
# in up to nj jobs -> OUT_DIR/text (stages 5 and 6).
recognize() {
    local data=$1 asr=$2 dir=$3 num_utts set_nj n
    num_utts=$(wc -l < "${data}/utt2spk")
    set_nj=$(( nj < num_utts ? nj : num_utts ))
    rm -rf "${dir}"
    mkdir -p "${dir}/split${set_nj}"
    # shellcheck disable=SC2046
    utils/split_scp "${data}/utt2spk" \
        $(for n in $(seq "${set_nj}"); do echo "${dir}/split${set_nj}/utts.${n}"; done)
    ${decode_cmd} JOB=1:"${set_nj}" "${dir}/log/asr_recog.JOB.log" \
        python -m chain.bin.asr_recog --exp-dir "${asr}" --checkpoint "${asr_checkpoint}" \
            --data-dir "${data}" --utt-list "${dir}/split${set_nj}/utts.JOB" \
            --out "${dir}/hyp.JOB" --beam "${beam}" --num-threads 1
    for n in $(seq "${set_nj}"); do cat "${dir}/hyp.${n}"; done | sort > "${dir}/text.tmp"
    mv "${dir}/text.tmp" "${dir}/text"
}

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "stage 3: ASR training: dump/${asr_train_set} -> ${asr_exp} (log: ${asr_exp}/train.log)"
    train_asr "dump/${asr_train_set}" "${asr_exp}"
    if [ -n "${spk_exp}" ]; then
        log "stage 3: speaker encoder training: ${spk_train_dir} -> ${spk_exp} (log: ${spk_exp}/train.log)"
        if [ "${spk_train_set}" != "${spk_train_set// /}" ]; then
            # shellcheck disable=SC2046
            utils/combine_data.sh "${spk_train_dir}" $(for s in ${spk_train_set}; do echo "dump/${s}"; done)
        fi
        # shellcheck disable=SC2086
        ${train_cmd} ${train_opts} "${spk_exp}/log/spk_train.log" \
            ${launcher} chain.bin.spk_train --config "${spk_config}" \
                --train-dir "${spk_train_dir}" --dev-dir "dump/${dev_set}" --cmvn data/cmvn.ark \
                --exp-dir "${spk_exp}" --ngpu "${proc_ngpu}" --resume true ${spk_args}
        tail -n 1 "${spk_exp}/train.log" >&2
    fi
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "stage 4: TTS training: dump/${tts_train_set} -> ${tts_exp} (log: ${tts_exp}/train.log)"
    train_tts "dump/${tts_train_set}" "${tts_exp}"
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    if [ -n "${chain_exp}" ]; then
        for f in "${asr_exp}/best.pt" "${tts_exp}/best.pt"; do
            if [ ! -f "${f}" ]; then
                log "stage 5 (--system ${system}) starts from ${f}: no such file (run stages 3 and 4 first)"
                exit 1
            fi
        done
    fi
    case "${system}" in
    baseline|upper)
        log "stage 5: nothing to do for --system ${system}" ;;
    labelprop)
        # Label propagation (machine speech chain paper, IV-D4): pseudo-label the unpaired speech with the
        # paired ASR, then train both models further on paired + pseudo-labelled pairs.
        dir=${chain_exp}/pseudo_labels
        train_labelprop=${chain_exp}/data/train_labelprop
        log "stage 5: label propagation: dump/train_speech_only transcribed by ${asr_exp} (beam ${beam}) -> ${train_labelprop}"
        recognize dump/train_speech_only "${asr_exp}" "${dir}"
        python -m chain.bin.labelprop --paired-dir dump/train_paired --speech-dir dump/train_speech_only \
            --hyp "${dir}/text" --out-dir "${train_labelprop}"
        validate "${train_labelprop}"
        # shellcheck disable=SC2086
        train_asr "${train_labelprop}" "${chain_exp}/asr" --init "${asr_exp}/best.pt" ${labelprop_args}
        # shellcheck disable=SC2086
        train_tts "${train_labelprop}" "${chain_exp}/tts" --init "${tts_exp}/best.pt" ${labelprop_args}
        ;;
    chain|chain_st)
        st_opts=""
        if [ "${system}" = chain_st ]; then st_opts="--st ${st} --tau ${tau}"; fi
        log "stage 5: speech chain from ${asr_exp} and ${tts_exp} -> ${chain_exp} (log: ${chain_exp}/train.log)"
        # shellcheck disable=SC2086
        ${train_cmd} ${train_opts} "${chain_exp}/log/chain_train.log" \
            ${launcher} chain.bin.chain_train --config "${chain_config}" \
                --asr-exp-dir "${asr_exp}" --tts-exp-dir "${tts_exp}" \
                --paired-dir dump/train_paired --speech-dir dump/train_speech_only \
                --text-dir data/train_text_only --dev-dir "dump/${dev_set}" \
                --exp-dir "${chain_exp}" --ngpu "${proc_ngpu}" --resume true ${st_opts} ${chain_args}
        tail -n 1 "${chain_exp}/train.log" >&2
        ;;
    esac
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    for dset in ${dev_set} ${test_sets}; do
        dir=${eval_asr_exp}/decode_${dset}_${asr_checkpoint%.pt}_beam${beam}
        log "stage 6: ASR decoding: dump/${dset} with ${eval_asr_exp}/${asr_checkpoint} -> ${dir}"
        recognize "dump/${dset}" "${eval_asr_exp}" "${dir}"
        python -m chain.bin.score --ref "dump/${dset}/text" --hyp "${dir}/text" --out-dir "${dir}"
    done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    for dset in ${test_sets}; do
        dir=${eval_tts_exp}/synth_${dset}
        log "stage 7: TTS synthesis: text of dump/${dset} with ${eval_tts_exp}/${tts_checkpoint} -> ${dir}"
        # shellcheck disable=SC2086
        ${decode_cmd} "${dir}/log/tts_decode.log" \
            python -m chain.bin.tts_decode --exp-dir "${eval_tts_exp}" --checkpoint "${tts_checkpoint}" \
                --data-dir "dump/${dset}" --out-dir "${dir}" --fbank-conf "${feats_conf}" \
                --griffin-lim-iters "${griffin_lim_iters}" ${tts_decode_args}
        log "stage 7: TTS evaluation: mel L2, stop accuracy, MCD/F0/VUV (WORLD), CER of ${dir} by ${scoring_asr_exp}"
        ${decode_cmd} "${dir}/log/tts_eval.log" \
            python -m chain.bin.tts_eval --exp-dir "${eval_tts_exp}" --checkpoint "${tts_checkpoint}" \
                --data-dir "dump/${dset}" --synth-dir "${dir}" --asr-exp-dir "${scoring_asr_exp}" \
                --asr-checkpoint "${asr_checkpoint}" --beam "${beam}" --out-dir "${dir}"
        cat "${dir}/result.txt" >&2
        if [ -n "${spk_exp}" ]; then
            dir=${spk_exp}/embed_${dset}
            log "stage 7: speaker encoder: EER and identification accuracy on dump/${dset} -> ${dir}"
            ${decode_cmd} "${dir}/log/spk_embed.log" \
                python -m chain.bin.spk_embed --exp-dir "${spk_exp}" --data-dir "dump/${dset}" --out-dir "${dir}"
            if [ -f "${dir}/result.txt" ]; then cat "${dir}/result.txt" >&2; fi
        fi
    done
fi

log "finished stages ${stage}..${stop_stage}"
