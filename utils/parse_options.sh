# shellcheck shell=bash
# utils/parse_options.sh: command-line options for the shell scripts of chain (sourced).
#
# Contract. A script defines its options as plain shell variables, optionally a
# `help_message`, then sources this file with its arguments still in "$@":
#
#     nj=4              # number of parallel jobs
#     use_gpu=false     # run on a GPU (true or false)
#     help_message="Usage: $0 [options] <data-dir>"
#     . "$(dirname "$0")/parse_options.sh"
#
#   --foo-bar VALUE, --foo-bar=VALUE
#       set the existing variable foo_bar. A variable that is not defined is not an
#       option: "unknown option --foo-bar", exit 2. When the current value is
#       `true` or `false` the new value must be `true` or `false` too.
#   --config FILE
#       first source FILE, a bash file of NAME=VALUE lines (comments and blank lines
#       allowed); every NAME must be an existing option. All --config files are read
#       before the other options, so the command line wins wherever it is written.
#   --help, -h
#       print $help_message (if set), then every option with its default, exit 0.
#   Parsing stops at the first argument that does not start with `--` (or `-h`), or
#   after `--`; the parsed options are shifted off, the rest is left in "$@".
#
# The option list of --help is read from the calling script: every unindented
# `name=value` line above the line that sources this file (here-documents skipped),
# with the comment written after the value on the same line. Variables defined
# elsewhere (e.g. by `. ./cmd.sh`) are still accepted as options but not listed.
#
# Exit status: usage errors (unknown option, missing value, bad boolean, unreadable
# config) print $help_message and a one-line error to stderr and exit 2, as the
# recipe templates do; runtime failures of the scripts themselves exit 1.
# Works under `set -euo pipefail`. Names starting with `_po_` are used here and unset.

_po_caller=${BASH_SOURCE[1]:-}
_po_stop=${BASH_LINENO[0]:-0}

_po_fail() {  # <message>: usage error
  if [ -n "${help_message:-}" ]; then printf '%s\n' "$help_message" >&2; fi
  printf '%s: %s\n' "$0" "$1" >&2
  exit 2
}

_po_is_option() {  # <variable name>: 0 if --name may set it
  case $1 in
    help_message | config | _* ) return 1 ;;
  esac
  [[ $1 =~ ^[a-z][a-z0-9_]*$ ]] || return 1
  [ -n "${!1+set}" ] || return 1
  [[ $(declare -p "$1" 2>/dev/null) != "declare -"[aA]* ]]  # scalars only, not arrays
}

_po_help() {
  if [ -n "${help_message:-}" ]; then printf '%s\n\n' "$help_message"; fi
  echo "Options (default value, description):"
  printf '  %-32s %s\n' "--config FILE" "read NAME=VALUE lines from a bash file first" \
                        "--help" "print this help and exit"
  if [ -z "$_po_caller" ] || [ ! -r "$_po_caller" ]; then return 0; fi
  local _po_name _po_comment _po_value
  while IFS=$'\t' read -r _po_name _po_comment; do
    _po_is_option "$_po_name" || continue
    _po_value=${!_po_name}
    if [[ -z $_po_value || $_po_value =~ [[:space:]] ]]; then _po_value="'$_po_value'"; fi
    printf '  %-32s %s\n' "--${_po_name//_/-} $_po_value" "$_po_comment"
  done < <(awk -v stop="$_po_stop" '
    NR >= stop { exit }
    heredoc != "" { line = $0; if (dash) sub(/^\t+/, "", line); if (line == heredoc) heredoc = ""; next }
    /^[a-z][a-z0-9_]*=/ {
      name = substr($0, 1, index($0, "=") - 1)
      comment = ""
      if ((i = index($0, " #")) > 0) { comment = substr($0, i + 2); sub(/^[ #]+/, "", comment) }
      if (!(name in seen)) { seen[name] = 1; print name "\t" comment }
    }
    match($0, /(^|[^<])<<-?[ ]*["\047]?[A-Za-z_][A-Za-z0-9_]*/) {
      tag = substr($0, RSTART, RLENGTH); sub(/^[^<]*<</, "", tag)
      dash = (substr(tag, 1, 1) == "-"); if (dash) tag = substr(tag, 2)
      gsub(/[ "\047]/, "", tag); heredoc = tag
    }' "$_po_caller")
}

_po_read_config() {  # <file>: check every line is NAME=VALUE with a known NAME, then source it
  # (locals are prefixed _po_ so that the sourced file cannot assign to them by mistake)
  local _po_file=$1 _po_n=0 _po_line _po_name _po_bools=() _po_b
  [ -f "$_po_file" ] && [ -r "$_po_file" ] \
    || _po_fail "--config $_po_file: no such readable file (give a bash file of NAME=VALUE lines)"
  while IFS= read -r _po_line || [ -n "$_po_line" ]; do
    _po_n=$((_po_n + 1))
    [[ $_po_line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    [[ $_po_line =~ ^([A-Za-z_][A-Za-z0-9_]*)= ]] \
      || _po_fail "$_po_file:$_po_n: expected NAME=VALUE, got '$_po_line'"
    _po_name=${BASH_REMATCH[1]}
    _po_is_option "$_po_name" \
      || _po_fail "$_po_file:$_po_n: unknown option '$_po_name' (run $0 --help for the options)"
  done < "$_po_file"
  for _po_name in $(compgen -v); do
    if _po_is_option "$_po_name" && [[ ${!_po_name} == true || ${!_po_name} == false ]]; then
      _po_bools+=("$_po_name")
    fi
  done
  # shellcheck disable=SC1090
  . "$_po_file"
  for _po_b in "${_po_bools[@]}"; do
    [[ ${!_po_b} == true || ${!_po_b} == false ]] \
      || _po_fail "$_po_file: $_po_b must be true or false, got '${!_po_b}'"
  done
}

# Pass 1: split the options into (name, value) pairs; handle --help; find the end.
_po_names=()
_po_values=()
_po_used=0
while [ "$_po_used" -lt "$#" ]; do
  _po_i=$((_po_used + 1))
  _po_arg=${!_po_i}
  case $_po_arg in
    --) _po_used=$_po_i; break ;;
    --help | -h) _po_help; exit 0 ;;
    --*=*) _po_names+=("${_po_arg%%=*}"); _po_values+=("${_po_arg#*=}"); _po_used=$_po_i ;;
    --?*)
      if [ "$_po_i" -ge "$#" ]; then _po_fail "option $_po_arg needs a value"; fi
      _po_i=$((_po_i + 1))
      _po_names+=("$_po_arg"); _po_values+=("${!_po_i}"); _po_used=$_po_i ;;
    *) break ;;
  esac
done

# Pass 2: config files first, then the other options in order.
for _po_k in "${!_po_names[@]}"; do
  if [ "${_po_names[$_po_k]}" = --config ]; then _po_read_config "${_po_values[$_po_k]}"; fi
done
for _po_k in "${!_po_names[@]}"; do
  _po_opt=${_po_names[$_po_k]}
  [ "$_po_opt" = --config ] && continue
  _po_var=${_po_opt#--}
  _po_var=${_po_var//-/_}
  _po_is_option "$_po_var" || _po_fail "unknown option $_po_opt (run $0 --help for the options)"
  _po_val=${_po_values[$_po_k]}
  if [ "${!_po_var}" = true ] || [ "${!_po_var}" = false ]; then
    if [ "$_po_val" != true ] && [ "$_po_val" != false ]; then
      _po_fail "$_po_opt must be true or false, got '$_po_val'"
    fi
  fi
  printf -v "$_po_var" '%s' "$_po_val"
done

shift "$_po_used"
unset -v _po_caller _po_stop _po_names _po_values _po_used _po_i _po_arg _po_k _po_opt _po_var _po_val
unset -f _po_fail _po_is_option _po_help _po_read_config
true
