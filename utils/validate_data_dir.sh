#!/usr/bin/env bash
# utils/validate_data_dir.sh: check a Kaldi data dir against docs/data.md.
#
# Contract: reads <data-dir>, writes nothing. Checks
#   - utt2spk and spk2utt exist; wav.scp unless --no-wav true; text unless --no-text true;
#   - every present file: no empty line, no CR line end, keys unique and sorted with
#     LC_ALL=C (the first offending line is named), a value after every key (so no
#     empty transcription in text);
#   - utt2spk has two fields a line, the speaker id prefixes the utterance id, and
#     spk2utt holds exactly the same (utterance, speaker) pairs;
#   - text, segments (or wav.scp when there are no segments), feats.scp, linear.scp,
#     utt2num_frames, utt2dur, utt2gender and utt2lang have exactly the utterances of utt2spk;
#   - segments lines are "<utt> <recording-in-wav.scp> <start> <end>", 0 <= start < end;
#     utt2num_frames values are positive integers, utt2dur values positive numbers.
# --no-X true means X is neither required nor checked: --no-text skips text;
# --no-wav skips wav.scp, segments and utt2dur; --no-feats skips feats.scp, linear.scp
# and utt2num_frames. So a speech-only dir passes with --no-text true and a text-only
# dir with --no-wav true.
# On success prints "<script>: Successfully validated data-directory <dir>", exit 0;
# the first problem found is reported on stderr as "<script>: <file>:<line>: <what>
# (<fix>)", exit 1. Usage errors exit 2.
set -euo pipefail
export LC_ALL=C

no_text=false    # a dir without transcripts (speech-only): do not require or check text
no_wav=false     # a dir without audio (text-only): do not require or check wav.scp, segments, utt2dur
no_feats=false   # do not check feats.scp, linear.scp, utt2num_frames even if present
help_message="Usage: $0 [options] <data-dir>
  e.g.: $0 data/train_paired
        $0 --no-text true data/train_speech_only"
. "$(dirname "$0")/parse_options.sh"

if [ $# -ne 1 ]; then
  echo "$help_message" >&2
  echo "$0: expected one data dir, got $# argument(s)" >&2
  exit 2
fi
dir=${1%/}
die() { echo "$0: $*" >&2; exit 1; }
[ -d "$dir" ] || die "no such directory $dir"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_lines() {  # <file> <min-fields> <max-fields or 0> <what a short line lacks>
  awk -v prog="$0" -v file="$1" -v minf="$2" -v maxf="$3" -v lacks="$4" '
    function fail(msg) { printf "%s: %s:%d: %s\n", prog, file, FNR, msg > "/dev/stderr"; bad = 1; exit 1 }
    /\r$/ { fail("line ends with a carriage return (convert the file with dos2unix)") }
    /^[ \t]*$/ { fail("empty line (remove it)") }
    /^[ \t]/ { fail("line starts with whitespace (remove it)") }
    NF < minf { fail("no " lacks " for key " $1 " (add it, or run utils/fix_data_dir.sh to drop the utterance)") }
    maxf > 0 && NF > maxf { fail("expected " maxf " fields, got " NF ": \"" $0 "\"") }
    {
      key = $1 ""
      if (FNR > 1 && key == prev) fail("duplicate key " key " (run utils/fix_data_dir.sh)")
      if (FNR > 1 && key < prev) fail("key " key " is not sorted after " prev " (sort with LC_ALL=C, or run utils/fix_data_dir.sh)")
      prev = key
    }
    END { if (bad) exit 1; if (NR == 0) { printf "%s: %s: empty file\n", prog, file > "/dev/stderr"; exit 1 } }' "$1"
}

check_positive() {  # <file> <awk regex for field 2> <what it must be>: values must match and be > 0
  awk -v prog="$0" -v file="$1" -v re="$2" -v what="$3" '
    $2 !~ re || $2 + 0 <= 0 { printf "%s: %s:%d: value of %s must be %s, got \"%s\"\n", prog, file, FNR, $1, what, $2 > "/dev/stderr"; exit 1 }' "$1"
}

check_keys() {  # <file>: its keys must be the utterances of utt2spk
  awk '{ print $1 }' "$1" > "$tmp/keys"
  local missing extra
  missing=$(comm -23 "$tmp/utts" "$tmp/keys" | awk 'NR <= 3 { s = s " " $0 } END { if (NR) print NR " missing (e.g." s ")" }')
  extra=$(comm -13 "$tmp/utts" "$tmp/keys" | awk 'NR <= 3 { s = s " " $0 } END { if (NR) print NR " not in utt2spk (e.g." s ")" }')
  if [ -n "$missing$extra" ]; then
    die "$1: utterances disagree with $dir/utt2spk: $missing${missing:+${extra:+; }}$extra (run utils/fix_data_dir.sh $dir)"
  fi
}

# 1. Required files.
for f in utt2spk spk2utt; do
  [ -f "$dir/$f" ] || die "no such file $dir/$f (every data dir needs it; spk2utt: utils/utt2spk_to_spk2utt $dir/utt2spk > $dir/spk2utt)"
done
if [ "$no_wav" = false ] && [ ! -f "$dir/wav.scp" ]; then
  die "no such file $dir/wav.scp (if this is by design, e.g. a text-only dir, pass --no-wav true)"
fi
if [ "$no_text" = false ] && [ ! -f "$dir/text" ]; then
  die "no such file $dir/text (if this is by design, e.g. a speech-only dir, pass --no-text true)"
fi

# 2. Speakers.
check_lines "$dir/utt2spk" 2 2 "speaker"
check_lines "$dir/spk2utt" 2 0 "utterance"
awk -v prog="$0" -v file="$dir/utt2spk" 'index($1, $2) != 1 {
  printf "%s: %s:%d: speaker id %s is not a prefix of utterance id %s (rename the utterance to %s-...)\n", prog, file, FNR, $2, $1, $2 > "/dev/stderr"; exit 1 }' "$dir/utt2spk"
awk '{ print $1 }' "$dir/utt2spk" > "$tmp/utts"
awk '{ print $1, $2 }' "$dir/utt2spk" > "$tmp/pairs.utt2spk"
awk '{ for (i = 2; i <= NF; i++) print $i, $1 }' "$dir/spk2utt" | sort > "$tmp/pairs.spk2utt"
diff=$(comm -3 "$tmp/pairs.utt2spk" "$tmp/pairs.spk2utt" | head -n 1)
if [ -n "$diff" ]; then
  case $diff in
    $'\t'*) where="only in spk2utt" ;;
    *) where="only in utt2spk" ;;
  esac
  die "$dir/spk2utt disagrees with $dir/utt2spk: utterance and speaker '${diff#$'\t'}' $where (regenerate it: utils/utt2spk_to_spk2utt $dir/utt2spk > $dir/spk2utt)"
fi

# 3. Per-utterance files.
if [ "$no_text" = false ]; then
  check_lines "$dir/text" 2 0 "transcription"
  check_keys "$dir/text"
fi
if [ "$no_wav" = false ]; then
  check_lines "$dir/wav.scp" 2 0 "audio path or command"
  if [ -f "$dir/segments" ]; then
    check_lines "$dir/segments" 4 4 "recording, start and end"
    check_keys "$dir/segments"
    awk -v prog="$0" -v file="$dir/segments" '
      function fail(msg) { printf "%s: %s:%d: %s\n", prog, file, FNR, msg > "/dev/stderr"; exit 1 }
      FILENAME != file { rec[$1] = 1; next }
      !($2 in rec) { fail("recording " $2 " of " $1 " is not in wav.scp (add it, or run utils/fix_data_dir.sh)") }
      $3 !~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ || $4 !~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ { fail("start and end of " $1 " must be seconds >= 0, got " $3 " " $4) }
      $3 + 0 >= $4 + 0 { fail("start " $3 " of " $1 " is not before its end " $4) }' "$dir/wav.scp" "$dir/segments"
  else
    check_keys "$dir/wav.scp"
  fi
  if [ -f "$dir/utt2dur" ]; then
    check_lines "$dir/utt2dur" 2 2 "duration"
    check_keys "$dir/utt2dur"
    check_positive "$dir/utt2dur" '^([0-9]+\.?[0-9]*|\.[0-9]+)$' "a positive duration in seconds"
  fi
fi
if [ "$no_feats" = false ]; then
  for f in feats.scp linear.scp; do
    if [ -f "$dir/$f" ]; then
      check_lines "$dir/$f" 2 0 "feature location"
      check_keys "$dir/$f"
    fi
  done
  if [ -f "$dir/utt2num_frames" ]; then
    check_lines "$dir/utt2num_frames" 2 2 "frame count"
    check_keys "$dir/utt2num_frames"
    check_positive "$dir/utt2num_frames" '^[0-9]+$' "a positive number of frames"
  fi
fi
for f in utt2gender utt2lang; do
  if [ -f "$dir/$f" ]; then
    check_lines "$dir/$f" 2 2 "${f#utt2}"
    check_keys "$dir/$f"
  fi
done
if [ -f "$dir/spk2gender" ]; then
  check_lines "$dir/spk2gender" 2 2 "gender"
fi

echo "$0: Successfully validated data-directory $dir"
