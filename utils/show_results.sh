#!/usr/bin/env bash
# utils/show_results.sh: gather the results of stages 6 and 7 into one Markdown table.
#
# Contract: reads every <exp-root>/*/decode_*/result.txt (chain.bin.score: "CER x% ...
# WER y% ...") and <exp-root>/*/synth_*/result.txt (chain.bin.tts_eval: "mel_l2 a
# stop_acc b MCD cdB F0_RMSE dHz VUV e% CER x% WER y% hit_cap n/m ...") and prints one row
# per file to stdout: experiment, what (decode/synth and set), CER, WER, mel L2, stop
# accuracy, mel-cepstral distortion, F0 RMSE, voiced/unvoiced error, length-cap hits.
# The models of stage 5 sit one level deeper (<exp-root>/chain_x/asr/decode_*/result.txt);
# their experiment is shown as chain_x/asr.
set -euo pipefail
export LC_ALL=C

help_message="Usage: $0 [options] [<exp-root>]
  e.g.: $0 exp"
. "$(dirname "$0")/parse_options.sh"

if [ $# -gt 1 ]; then
  echo "$help_message" >&2
  echo "$0: expected at most one exp root, got $# arguments" >&2
  exit 2
fi
root=${1:-exp}
root=${root%/}
if [ ! -d "$root" ]; then
  echo "$0: no such directory $root (run the training and decoding stages first)" >&2
  exit 1
fi

results=$(find "$root" -mindepth 3 -maxdepth 4 -name result.txt \
  \( -path '*/decode_*/*' -o -path '*/synth_*/*' \) | sort)
if [ -z "$results" ]; then
  echo "$0: no decode_*/result.txt or synth_*/result.txt under $root (run stages 6 and 7)" >&2
  exit 1
fi

echo "| experiment | result | CER | WER | mel L2 | stop acc | MCD | F0 RMSE | V/UV err | hit cap |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for f in $results; do
  dir=$(dirname "$f")
  awk -v expname="$(dirname "${dir#"$root"/}")" -v what="$(basename "$dir")" '
    { for (i = 1; i < NF; i++) if ($i ~ /^(CER|WER|mel_l2|stop_acc|MCD|F0_RMSE|VUV|hit_cap)$/) v[$i] = $(i + 1) }
    END {
      n = split("CER WER mel_l2 stop_acc MCD F0_RMSE VUV hit_cap", keys, " ")
      row = "| " expname " | " what
      for (k = 1; k <= n; k++) row = row " | " ((keys[k] in v) ? v[keys[k]] : "-")
      print row " |"
    }' "$f"
done
