#!/usr/bin/env bash
# utils/show_results.sh: gather the results of stages 6 and 7 into Markdown tables.
#
# Contract: reads every <exp-root>/*/decode_*/result.txt (chain.bin.score: "CER x% ...
# WER y% ..."; for tagged transcripts a second line "LID token accuracy a% ... LID utterance
# accuracy b% ..."), <exp-root>/*/synth_*/result.txt (chain.bin.tts_eval: "mel_l2 a
# stop_acc b MCD cdB F0_RMSE dHz VUV e% CER x% WER y% [LID_token a% LID_utt b%] hit_cap n/m
# [spk_cos s] ...") and <exp-root>/*/embed_*/result.txt (chain.bin.spk_embed: "EER x% (...),
# identification accuracy y% ..."), and prints to stdout:
#   1. one row per decode_/synth_ file: experiment, what (decode/synth and set), CER, WER,
#      mel L2, stop accuracy, mel-cepstral distortion, F0 RMSE, voiced/unvoiced error,
#      length-cap hits; these columns are always there. LID token, LID utt (next to WER)
#      and spk cos (one-shot speaker similarity, last) are columns only when some row has
#      them, so a single-speaker, untagged table looks as it always did.
#   2. where embed_ files exist, after a blank line, a second table: experiment (the
#      speaker encoder), what (embed and set), EER, id acc.
#   3. where the ZeroSpeech recipes' <exp-root>/*/units_test/result.yaml and
#      <exp-root>/baselines/*/units_test/result.yaml exist (chain.bin.zs_eval: "abx: a",
#      "bitrate: b", "resynth_cer: c" ... lines), after a blank line, a table of the unit
#      systems: ABX error, bitrate, speaker information of the units and the scores of the
#      speech resynthesised from them (CER, WER, cosine to the target voice).
# A figure a row lacks prints as "-"; each table has its own header and separator lines.
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

results=()
while IFS= read -r f; do
  case $(basename "$(dirname "$f")") in decode_*|synth_*|embed_*) results+=("$f") ;; esac
done < <(find "$root" -mindepth 3 -maxdepth 4 -name result.txt | sort)
units=$(find "$root" -mindepth 3 -maxdepth 4 -name result.yaml -path '*/units_test/*' | sort)
if [ ${#results[@]} -eq 0 ] && [ -z "$units" ]; then
  echo "$0: no decode_*/, synth_*/ or embed_*/result.txt, nor units_test/result.yaml, under $root" \
    "(run stages 6 and 7)" >&2
  exit 1
fi

[ ${#results[@]} -eq 0 ] || awk -v root="$root" '
  function cell(row, key) { return (row SUBSEP key) in v ? v[row, key] : "-" }
  function table(kind, keys, heads,   n, k, r, line, col, head) {
    n = split(keys, col, " ")
    split(heads, head, "|")
    line = "| experiment | result"
    for (k = 1; k <= n; k++) if (col[k] in always || col[k] in seen) line = line " | " head[k]
    print line " |"
    line = "|---|---"
    for (k = 1; k <= n; k++) if (col[k] in always || col[k] in seen) line = line "|---"
    print line "|"
    for (r = 1; r <= rows; r++) {
      if (rowkind[r] != kind) continue
      line = "| " expname[r] " | " what[r]
      for (k = 1; k <= n; k++) if (col[k] in always || col[k] in seen) line = line " | " cell(r, col[k])
      print line " |"
    }
  }
  BEGIN {
    # every file is a row, an empty one too (figures "-")
    for (a = 1; a < ARGC; a++) {
      rel = substr(ARGV[a], length(root) + 2)
      n = split(rel, part, "/")
      expname[a] = part[1]
      for (p = 2; p < n - 1; p++) expname[a] = expname[a] "/" part[p]
      what[a] = part[n - 1]
      rowkind[a] = what[a] ~ /^embed_/ ? "embed" : "eval"
      count[rowkind[a]]++
      row_of[ARGV[a]] = a
    }
    rows = ARGC - 1
    split("CER WER mel_l2 stop_acc MCD F0_RMSE VUV hit_cap", fixed, " ")
    for (k in fixed) always[fixed[k]] = 1
    always["EER"] = always["id_acc"] = 1
  }
  {
    r = row_of[FILENAME]
    for (i = 1; i < NF; i++) {
      key = ""
      if ($i ~ /^(CER|WER|mel_l2|stop_acc|MCD|F0_RMSE|VUV|hit_cap|LID_token|LID_utt|spk_cos|EER)$/) {
        key = $i; val = $(i + 1)
      } else if ($i == "LID" && $(i + 2) == "accuracy" && i + 3 <= NF) {  # chain.bin.score
        key = $(i + 1) == "token" ? "LID_token" : $(i + 1) == "utterance" ? "LID_utt" : ""
        val = $(i + 3)
      } else if ($i == "identification" && $(i + 1) == "accuracy" && i + 2 <= NF) {
        key = "id_acc"; val = $(i + 2)
      }
      if (key != "") { v[r, key] = val; seen[key] = 1 }
    }
  }
  END {
    if (count["eval"]) table("eval", "CER WER LID_token LID_utt mel_l2 stop_acc MCD F0_RMSE VUV hit_cap spk_cos",
                             "CER|WER|LID token|LID utt|mel L2|stop acc|MCD|F0 RMSE|V/UV err|hit cap|spk cos")
    if (count["eval"] && count["embed"]) print ""
    if (count["embed"]) table("embed", "EER id_acc", "EER|id acc")
  }' "${results[@]}"

if [ -n "$units" ]; then
  [ ${#results[@]} -eq 0 ] || echo
  echo "| unit system | ABX | bitrate | spk info | resynth CER | resynth WER | resynth spk cos |"
  echo "|---|---|---|---|---|---|---|"
fi
for f in $units; do
  dir=$(dirname "$(dirname "$f")")
  awk -v unitsys="${dir#"$root"/}" '
    $1 ~ /^(abx|bitrate|speaker_information|resynth_cer|resynth_wer|resynth_spk_cos):$/ { v[substr($1, 1, length($1) - 1)] = $2 }
    END {
      n = split("abx bitrate speaker_information resynth_cer resynth_wer resynth_spk_cos", keys, " ")
      row = "| " unitsys
      for (k = 1; k <= n; k++) row = row " | " ((keys[k] in v) ? v[keys[k]] : "-")
      print row " |"
    }' "$f"
done
