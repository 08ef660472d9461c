# shellcheck shell=bash
# utils/data_dir_lib.sh: the files of a Kaldi data dir and the functions shared by
# fix_data_dir.sh, subset_data_dir.sh and combine_data.sh (sourced, not run).
#
# Files of a data dir (docs/data.md); every one holds "<key> <value...>" lines
# sorted by key with LC_ALL=C, one line per key:
#   keyed by utterance: utt2spk, segments, $UTT_FILES, and wav.scp when there are no segments
#   keyed by recording: wav.scp when there are segments ("<utt> <recording> <start> <end>")
#   keyed by speaker:   spk2utt (always derived from utt2spk), $SPK_FILES
# Needs: $utils (the dir of this file). Defines die, keys_of, keep_keys,
# write_subset, install_files and validate_quietly.

UTT_FILES="text feats.scp linear.scp utt2num_frames utt2dur utt2gender utt2lang"
SPK_FILES="spk2gender"
ALL_FILES="utt2spk spk2utt wav.scp segments $UTT_FILES $SPK_FILES"

die() {  # <message>: runtime failure
  echo "$0: $*" >&2
  exit 1
}

keys_of() {  # <file>: its first fields, sorted and unique
  awk 'NF > 0 { print $1 }' "$1" | sort -u
}

keep_keys() {  # <key-list> <file>: the lines of <file> whose first field starts a line of <key-list>
  awk 'BEGIN { while ((getline l < ARGV[1]) > 0) if (split(l, f, " ") > 0) keep[f[1]] = 1; ARGV[1] = "" }
       $1 in keep' "$1" "$2"
}

write_subset() {  # <src-dir> <sorted-utt-list> <out-dir>: every file of <src-dir> restricted to the list
  local src=$1 list=$2 out=$3 f
  keep_keys "$list" "$src/utt2spk" > "$out/utt2spk"
  for f in segments $UTT_FILES; do
    if [ -f "$src/$f" ]; then keep_keys "$list" "$src/$f" > "$out/$f"; fi
  done
  if [ -f "$src/wav.scp" ] && [ -f "$src/segments" ]; then
    awk '{ print $2 }' "$out/segments" | sort -u > "$out/.recordings"
    keep_keys "$out/.recordings" "$src/wav.scp" > "$out/wav.scp"
    rm -f "$out/.recordings"
  elif [ -f "$src/wav.scp" ]; then
    keep_keys "$list" "$src/wav.scp" > "$out/wav.scp"
  fi
  "$utils/utt2spk_to_spk2utt" "$out/utt2spk" > "$out/spk2utt"
  for f in $SPK_FILES; do
    if [ -f "$src/$f" ]; then keep_keys "$out/spk2utt" "$src/$f" > "$out/$f"; fi
  done
}

install_files() {  # <tmp-dir> <dst-dir>: move the data-dir files of <tmp-dir> into <dst-dir>
  # Each file is renamed into place (same file system, so never half written); a
  # data-dir file that <dst-dir> has but <tmp-dir> has not is stale and is removed,
  # so that e.g. a speech-only dir never keeps an old text.
  local tmp=$1 dst=$2 f
  for f in $ALL_FILES; do
    if [ -f "$tmp/$f" ]; then
      mv -f "$tmp/$f" "$dst/$f"
    elif [ -e "$dst/$f" ]; then
      rm -f "$dst/$f"
    fi
  done
}

validate_quietly() {  # <dir>: validate_data_dir.sh with --no-text/--no-wav set by what the dir has
  local flags=()
  if [ ! -f "$1/text" ]; then flags+=(--no-text true); fi
  if [ ! -f "$1/wav.scp" ]; then flags+=(--no-wav true); fi
  "$utils/validate_data_dir.sh" "${flags[@]}" "$1" > /dev/null
}
