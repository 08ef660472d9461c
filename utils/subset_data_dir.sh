#!/usr/bin/env bash
# utils/subset_data_dir.sh: copy part of a data dir, chosen by utterance, position or speaker.
#
# Contract: reads <src-dir>, writes <dst-dir> (created if needed) holding the chosen
# utterances of every file of <src-dir> (see utils/data_dir_lib.sh): utt2spk and all
# per-utterance files, segments and the wav.scp records they use (or the wav.scp
# lines of the utterances), spk2utt regenerated, spk2gender of the kept speakers.
# Exactly one selector is given:
#   --utt-list FILE   the utterances in the first field of FILE (ids not in <src-dir> are reported)
#   --first N         the first N utterances of utt2spk (sorted order)
#   --last N          the last N utterances of utt2spk
#   --speakers FILE   every utterance of the speakers in the first field of FILE
# Files are written to a temp dir inside <dst-dir> and renamed into place; a data-dir
# file left in <dst-dir> by an earlier run but absent from <src-dir> is removed. The
# result is checked with utils/validate_data_dir.sh (exit 1 if it fails). Prints
# "subset_data_dir.sh: kept N of M utterances". Usage errors exit 2.
set -euo pipefail
export LC_ALL=C

utt_list=""   # file whose first field lists the utterances to keep
first=""      # keep the first N utterances (sorted order)
last=""       # keep the last N utterances (sorted order)
speakers=""   # file whose first field lists the speakers to keep
help_message="Usage: $0 (--utt-list FILE | --first N | --last N | --speakers FILE) <src-dir> <dst-dir>
  e.g.: $0 --first 100 data/train data/train_100
        $0 --speakers conf/dev_speakers data/all data/dev"
. "$(dirname "$0")/parse_options.sh"

usage_error() {
  echo "$help_message" >&2
  echo "$0: $*" >&2
  exit 2
}
if [ $# -ne 2 ]; then usage_error "expected <src-dir> <dst-dir>, got $# argument(s)"; fi
selectors=0
for v in "$utt_list" "$first" "$last" "$speakers"; do
  if [ -n "$v" ]; then selectors=$((selectors + 1)); fi
done
if [ "$selectors" -ne 1 ]; then
  usage_error "give exactly one of --utt-list, --first, --last, --speakers (got $selectors)"
fi
for n in "$first" "$last"; do
  if [ -n "$n" ] && [[ ! $n =~ ^[1-9][0-9]*$ ]]; then usage_error "--first/--last must be a positive integer, got '$n'"; fi
done

utils=$(dirname "$0")
. "$utils/data_dir_lib.sh"
src=${1%/}
dst=${2%/}
[ -f "$src/utt2spk" ] || die "no such file $src/utt2spk (is $src a data dir?)"
for f in "$utt_list" "$speakers"; do
  if [ -n "$f" ] && [ ! -f "$f" ]; then die "no such file $f (check the path)"; fi
done
if [ "$(realpath -m "$src")" = "$(realpath -m "$dst")" ]; then
  die "<src-dir> and <dst-dir> are the same dir $src (write the subset to a new dir)"
fi

work=$(mktemp -d)
out=""
trap 'rm -rf "$work" ${out:+"$out"}' EXIT
keys_of "$src/utt2spk" > "$work/all"
total=$(wc -l < "$work/all")

# 1. The chosen utterances, sorted.
if [ -n "$utt_list" ]; then
  keys_of "$utt_list" > "$work/wanted"
  comm -12 "$work/all" "$work/wanted" > "$work/keep"
  unknown=$(comm -13 "$work/all" "$work/wanted" | wc -l)
  if [ "$unknown" -gt 0 ]; then
    echo "$0: warning: $unknown id(s) of $utt_list are not in $src/utt2spk (e.g. $(comm -13 "$work/all" "$work/wanted" | head -n 1))" >&2
  fi
elif [ -n "$speakers" ]; then
  keys_of "$speakers" > "$work/spk"
  awk 'BEGIN { while ((getline l < ARGV[1]) > 0) spk[l] = 1; ARGV[1] = "" } $2 in spk { print $1 }' \
    "$work/spk" "$src/utt2spk" | sort -u > "$work/keep"
else
  n=${first:-$last}
  if [ "$n" -gt "$total" ]; then
    die "--first/--last $n, but $src/utt2spk has only $total utterances (ask for at most $total)"
  fi
  if [ -n "$first" ]; then head -n "$n" "$work/all"; else tail -n "$n" "$work/all"; fi > "$work/keep"
fi
kept=$(wc -l < "$work/keep")
[ "$kept" -gt 0 ] || die "no utterance of $src was selected; nothing written"

# 2. Write, move into place, check.
mkdir -p "$dst"
out=$(mktemp -d "$dst/.subset.XXXXXX")   # on the file system of <dst-dir>, so that mv is a rename
write_subset "$src" "$work/keep" "$out"
install_files "$out" "$dst"
validate_quietly "$dst"
echo "$0: kept $kept of $total utterances ($src -> $dst)"
