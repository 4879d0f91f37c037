#!/bin/bash
# Time one run_all case for two source trees at the same moment, so both see the
# same load (the machine may be shared): three rounds, best rate of each printed.
#   benchmarks/side_by_side.sh batch.random /path/to/other/checkout "$PWD"
# Each tree is a checkout of this repository (git worktree add ...); its src/ is
# put first on PYTHONPATH. Run from the repository root with the venv active.
set -euo pipefail
for i in 1 2 3; do
  for w in "$2" "$3"; do
    (PYTHONPATH=$w/src OMP_NUM_THREADS=1 python benchmarks/run_all.py --case $1 --repeats 3 2>/dev/null | python -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print('$w', round(d['work']/min(d['times'])))") &
  done; wait
done | sort | awk '{if ($2>best[$1]) best[$1]=$2} END {for (k in best) print k, best[k]}'
