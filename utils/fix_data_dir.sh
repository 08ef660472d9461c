#!/usr/bin/env bash
# utils/fix_data_dir.sh: make a data dir consistent by sorting it and dropping what does not match.
#
# Contract: rewrites the files of <data-dir> in place (see utils/data_dir_lib.sh for the list):
#   - every file is sorted by key with LC_ALL=C; blank lines, lines without a value
#     (e.g. an empty transcription) and repeated keys (all but the first) are dropped;
#   - an utterance is kept only if it is in every present per-utterance file
#     (utt2spk, text, segments or else wav.scp, feats.scp, linear.scp, utt2num_frames,
#     utt2dur, utt2gender, utt2lang) and, with segments, its recording is in wav.scp;
#   - wav.scp records that no kept segment uses are dropped, spk2utt is regenerated
#     from utt2spk, spk2gender keeps the remaining speakers.
# The original files are first copied to <data-dir>/.backup/ (replacing an older
# backup); each new file is renamed into place. Prints what it dropped and
# "fix_data_dir.sh: kept N of M utterances" (M: utterances of utt2spk). If no
# utterance would remain, nothing is changed and it exits 1. Usage errors exit 2.
# It cannot fix a speaker id that does not prefix its utterance ids; run
# utils/validate_data_dir.sh afterwards.
set -euo pipefail
export LC_ALL=C

help_message="Usage: $0 <data-dir>
  e.g.: $0 data/train"
. "$(dirname "$0")/parse_options.sh"

if [ $# -ne 1 ]; then
  echo "$help_message" >&2
  echo "$0: expected one data dir, got $# argument(s)" >&2
  exit 2
fi
utils=$(dirname "$0")
. "$utils/data_dir_lib.sh"
dir=${1%/}
[ -f "$dir/utt2spk" ] || die "no such file $dir/utt2spk (every data dir needs it)"

work=$(mktemp -d "$dir/.fix.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/sorted" "$work/out"

# 1. Sorted, clean copies of every present file (spk2utt is rebuilt, not copied).
for f in $ALL_FILES; do
  if [ "$f" = spk2utt ] || [ ! -f "$dir/$f" ]; then continue; fi
  sort -s -k1,1 "$dir/$f" | awk -v prog="$0" -v file="$dir/$f" '
    NF < 2 { short++; next }
    $1 in seen { dup++; next }
    { seen[$1] = 1; print }
    END {
      if (short) printf "%s: %s: dropped %d line(s) without a value\n", prog, file, short > "/dev/stderr"
      if (dup) printf "%s: %s: dropped %d line(s) with a repeated key\n", prog, file, dup > "/dev/stderr"
    }' > "$work/sorted/$f"
done

# 2. The utterances present everywhere.
keys_of "$work/sorted/utt2spk" > "$work/all"
total=$(wc -l < "$work/all")
cp "$work/all" "$work/keep"
per_utt="$UTT_FILES"
if [ -f "$work/sorted/segments" ]; then
  per_utt="segments $per_utt"
  if [ -f "$work/sorted/wav.scp" ]; then  # a segment whose recording is gone cannot be used
    keep_keys "$work/sorted/wav.scp" <(awk '{ print $2, $1 }' "$work/sorted/segments") \
      | awk '{ print $2 }' | sort > "$work/keys.segments"
  fi
elif [ -f "$work/sorted/wav.scp" ]; then
  per_utt="wav.scp $per_utt"
fi
for f in $per_utt; do
  [ -f "$work/sorted/$f" ] || continue
  [ -f "$work/keys.$f" ] || keys_of "$work/sorted/$f" > "$work/keys.$f"
  extra=$(keys_of "$work/sorted/$f" | comm -13 "$work/all" - | wc -l)
  if [ "$extra" -gt 0 ]; then echo "$0: $dir/$f: dropping $extra line(s) whose utterance is not in utt2spk" >&2; fi
  missing=$(comm -23 "$work/keep" "$work/keys.$f" | wc -l)
  if [ "$missing" -gt 0 ]; then
    where="not in $dir/$f"
    [ "$f" != segments ] || where="$where or with a recording missing from wav.scp"
    echo "$0: dropping $missing utterance(s) $where" >&2
    comm -12 "$work/keep" "$work/keys.$f" > "$work/keep.new"
    mv "$work/keep.new" "$work/keep"
  fi
done
kept=$(wc -l < "$work/keep")
if [ "$kept" -eq 0 ]; then
  die "no utterance of $dir/utt2spk is in all of the per-utterance files; nothing changed (check that the files use the same utterance ids)"
fi

# 3. Write the restricted files, back up the originals, move the new files into place.
write_subset "$work/sorted" "$work/keep" "$work/out"
if [ -f "$dir/wav.scp" ] && [ -f "$dir/segments" ]; then
  unused=$(( $(wc -l < "$work/sorted/wav.scp") - $(wc -l < "$work/out/wav.scp") ))
  if [ "$unused" -gt 0 ]; then echo "$0: dropping $unused recording(s) of $dir/wav.scp that no segment uses" >&2; fi
fi
mkdir -p "$dir/.backup"
for f in $ALL_FILES; do
  if [ -f "$dir/$f" ]; then cp -p "$dir/$f" "$dir/.backup/$f"; else rm -f "$dir/.backup/$f"; fi
done
install_files "$work/out" "$dir"
echo "$0: kept $kept of $total utterances"
