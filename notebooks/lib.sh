# Shared set-up for the notebooks. Each notebook sources this file.
#
#   REPORT  the report binary (default: build the release binary once and use it)
#   OUT     where the notebook writes its files (default: out/notebooks/<notebook name>)
#   QUICK   1 for a fast run with smaller grids (the test suite uses it)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="$(basename "$0" .sh)"
QUICK="${QUICK:-0}"
OUT="${OUT:-$ROOT/out/notebooks/$NAME}"
if [ -z "${REPORT:-}" ]; then
    (cd "$ROOT" && swift build -c release --product report >&2)
    REPORT="$ROOT/.build/release/report"
fi
mkdir -p "$OUT"
# quick FULL_VALUE QUICK_VALUE: picks the value for this run.
quick() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }
# say TEXT...: prose, echoed so the run reads like the notebook.
say() { printf '\n%s\n' "$*"; }
