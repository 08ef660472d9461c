#!/usr/bin/env bash
# Creates a new recipe dir egs/<corpus>/<name> from this template: symlinks to what
# is shared (chain.sh, path.sh, utils/) and copies of what a recipe edits (cmd.sh,
# conf/, local/data.sh), plus a run.sh. local/data.sh imports a folder of audio files
# with a transcript file and splits it (docs/data.md): set its corpus_dir and run.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "Usage: $0 egs/<corpus>/<name>" >&2
    echo "  e.g.: $0 egs/mycorpus/chain1" >&2
    exit 2
fi
dir=$1
template=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
root=$(cd "${template}/../../.." && pwd)

if [ -e "${dir}" ]; then
    echo "$0: ${dir} exists already (choose a new directory)" >&2
    exit 1
fi
mkdir -p "${dir}/local"
dir=$(cd "${dir}" && pwd)
rel() { realpath --relative-to="${dir}" "$1"; }

ln -s "$(rel "${root}/utils")" "${dir}/utils"
ln -s "$(rel "${template}/chain.sh")" "${dir}/chain.sh"
ln -s "$(rel "${template}/path.sh")" "${dir}/path.sh"
cp "${template}/cmd.sh" "${dir}/cmd.sh"
cp -r "${template}/conf" "${dir}/conf"

cat > "${dir}/run.sh" <<'RUN'
#!/usr/bin/env bash
# Recipe options for this corpus; the stages live in chain.sh (see ./chain.sh --help).
set -euo pipefail

./chain.sh \
    --feats-conf conf/fbank.yaml \
    "$@"
RUN
cp "${template}/local/data.sh" "${dir}/local/data.sh"
chmod +x "${dir}/run.sh" "${dir}/local/data.sh"
echo "$0: created ${dir}; next: set corpus_dir in ${dir}/local/data.sh, then run ./run.sh there"
