# Environment of every recipe: the toolkit's virtualenv first on PATH, byte-order
# sorting, unbuffered Python output for live logs. Sourced by run.sh and chain.sh.
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
if [ ! -x "${MAIN_ROOT}/tools/venv/bin/python" ]; then
    echo "path.sh: no ${MAIN_ROOT}/tools/venv (run 'make install' in ${MAIN_ROOT})" >&2
    return 1
fi
export PATH="${MAIN_ROOT}/tools/venv/bin:${PATH}"
# this checkout's package, whichever checkout the venv was installed from
export PYTHONPATH="${MAIN_ROOT}${PYTHONPATH:+:${PYTHONPATH}}"
export LC_ALL=C
export PYTHONUNBUFFERED=1
export MPLBACKEND=Agg
