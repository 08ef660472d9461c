#!/usr/bin/env bash
# utils/combine_data.sh: merge several data dirs into one.
#
# Contract: reads <src-dir>... and writes <dst-dir> (created if needed):
#   - each data-dir file (see utils/data_dir_lib.sh) that ALL sources have is
#     concatenated and sorted with LC_ALL=C; a file that only some sources have is
#     left out, with a warning naming it and the sources that lack it;
#   - spk2utt is regenerated from the merged utt2spk;
#   - an utterance id in more than one source is an error (the ids are named); so is a
#     recording (wav.scp with segments) or speaker (spk2gender) that two sources give
#     different values; identical repeats are merged;
#   - segments must be in all sources or in none (a dir with segments keys wav.scp by
#     recording, one without by utterance).
# Files are written to a temp dir inside <dst-dir> and renamed into place; data-dir
# files left in <dst-dir> by an earlier run and not produced now are removed. The result
# is checked with utils/validate_data_dir.sh. Prints "combine_data.sh: combined N
# utterances from K dirs into <dst-dir>". Runtime errors exit 1, usage errors exit 2.
set -euo pipefail
export LC_ALL=C

help_message="Usage: $0 <dst-dir> <src-dir1> [<src-dir2> ...]
  e.g.: $0 data/train_all data/train_paired data/train_speech_only"
. "$(dirname "$0")/parse_options.sh"

if [ $# -lt 2 ]; then
  echo "$help_message" >&2
  echo "$0: expected a destination and at least one source dir, got $# argument(s)" >&2
  exit 2
fi
utils=$(dirname "$0")
. "$utils/data_dir_lib.sh"
dst=${1%/}
shift
srcs=()
for s in "$@"; do
  s=${s%/}
  [ -f "$s/utt2spk" ] || die "no such file $s/utt2spk (is $s a data dir?)"
  srcs+=("$s")
done
for s in "${srcs[@]}"; do
  if [ "$(realpath -m "$s")" = "$(realpath -m "$dst")" ]; then
    die "<dst-dir> $dst is also a source (write the combination to a new dir)"
  fi
done

# 1. Utterance ids must be unique over the sources; which files do all sources have?
dups=$(for s in "${srcs[@]}"; do awk '{ print $1 }' "$s/utt2spk"; done | sort | uniq -d)
if [ -n "$dups" ]; then
  die "$(echo "$dups" | wc -l) utterance id(s) are in more than one source: $(echo "$dups" | head -n 5 | tr '\n' ' ')(each utterance may come from one source only)"
fi
with_segments=0
for s in "${srcs[@]}"; do
  if [ -f "$s/segments" ]; then with_segments=$((with_segments + 1)); fi
done
if [ "$with_segments" -ne 0 ] && [ "$with_segments" -ne "${#srcs[@]}" ]; then
  die "segments is in $with_segments of ${#srcs[@]} sources: combine dirs that all have segments or none (give the others one segment per recording)"
fi
files=()
for f in $ALL_FILES; do
  [ "$f" != spk2utt ] || continue
  lacking=()
  having=()
  for s in "${srcs[@]}"; do
    if [ -f "$s/$f" ]; then having+=("$s"); else lacking+=("$s"); fi
  done
  if [ "${#lacking[@]}" -eq 0 ]; then
    files+=("$f")
  elif [ "${#having[@]}" -gt 0 ]; then
    echo "$0: warning: $f is missing in ${lacking[*]}, so $dst gets no $f (present in ${having[*]})" >&2
  fi
done

# 2. Merge. Repeated keys (recordings, speakers) must repeat the same line, kept once.
mkdir -p "$dst"
out=$(mktemp -d "$dst/.combine.XXXXXX")   # on the file system of <dst-dir>, so that mv is a rename
trap 'rm -rf "$out"' EXIT
for f in "${files[@]}"; do
  # whole-line sort -u: the keys end up in LC_ALL=C order and equal lines collapse
  for s in "${srcs[@]}"; do cat "$s/$f"; done | sort -u > "$out/$f"
  dups=$(awk '{ print $1 }' "$out/$f" | uniq -d)
  if [ -n "$dups" ]; then
    die "$f: $(echo "$dups" | wc -l) key(s) have different values in different sources: $(echo "$dups" | head -n 5 | tr '\n' ' ')(make the sources agree)"
  fi
done
"$utils/utt2spk_to_spk2utt" "$out/utt2spk" > "$out/spk2utt"

# 3. Move into place and check.
install_files "$out" "$dst"
validate_quietly "$dst"
echo "$0: combined $(wc -l < "$dst/utt2spk") utterances from ${#srcs[@]} dirs into $dst"
