#!/bin/bash
# long.sh - the long difftest run (ninja difftest-long): both modes, one
# random seed for both, printed first, so that a difference can be had again
# with DIFFTEST_SEED=SEED.
#
# Usage: long.sh UMM_FS DIFFTEST RUN_MOUNTED RUN_SH
# Environment: DIFFTEST_SEED, DIFFTEST_SEQS (default 5000), DIFFTEST_OPS
# (default 60), DIFFTEST_PROCS (default 3).
set -uo pipefail

if [ $# -ne 4 ]; then
	echo "usage: long.sh UMM_FS DIFFTEST RUN_MOUNTED RUN_SH" >&2
	exit 2
fi
fs=$1
export DIFFTEST=$2
runner=$3
script=$4
seed=${DIFFTEST_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
export DIFFTEST_SEED=$seed
export DIFFTEST_SEQS=${DIFFTEST_SEQS:-5000}
export DIFFTEST_OPS=${DIFFTEST_OPS:-60}
export DIFFTEST_PROCS=${DIFFTEST_PROCS:-3}
echo "difftest-long: seed $seed ($DIFFTEST_SEQS sequences of $DIFFTEST_OPS ops, both modes)"

status=0
for mode in passthrough nopassthrough; do
	echo "difftest-long: === $mode ==="
	"$runner" "$fs" "$mode" "$script" || status=1
done
echo "difftest-long: seed $seed: $([ $status = 0 ] && echo 'no difference' || echo 'DIFFERENCES (above)')"
exit $status
