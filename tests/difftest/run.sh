#!/bin/bash
# run.sh - run difftest (tmpfs against umm) on a mount of run-mounted.sh.
#
#   tests/integration/run-mounted.sh UMM_FS MODE tests/difftest/run.sh
#   tests/difftest/run.sh --self      (tmpfs against tmpfs: the tester's own check)
#
# Under run-mounted.sh (UMM_MNT, UMM_TMP), the reference is a private tmpfs
# mounted at $UMM_TMP/tmpfs, so nothing else writes there; the trees are
# $UMM_TMP/tmpfs/diff and $UMM_MNT/diff. With --self, both trees are on one
# private tmpfs (under a temp dir of its own), or on /dev/shm when not root.
# The tmpfs is unmounted by trap, whatever happens.
#
# Environment: DIFFTEST (the binary; required), DIFFTEST_SEED (default 1: CI
# runs the same sequences every time; "random" takes one from /dev/urandom,
# printed first), DIFFTEST_SEQS (default 200), DIFFTEST_OPS (default 40),
# DIFFTEST_PROCS (default 2), DIFFTEST_VERBOSE (1: every operation),
# DIFFTEST_ARGS (more options, such as --keep-going).
# UMM_TIME_SCALE reaches difftest as it is.
#
# Exit status: difftest's (0 clean, 1 a difference, 2 set-up trouble); 77
# (skip) where no tmpfs can be had.

# cleanup() runs from a trap.
# shellcheck disable=SC2317
set -uo pipefail

me=difftest/run.sh
say() { printf '%s: %s\n' "$me" "$*" >&2; }

: "${DIFFTEST:?DIFFTEST (the difftest binary) is not set}"
seed=${DIFFTEST_SEED:-1}
if [ "$seed" = random ]; then
	seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
fi

self=0
[ "${1:-}" = --self ] && self=1

tmpfs=
scratch=
child=
cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -n "$tmpfs" ] && awk -v m="$tmpfs" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
		umount "$tmpfs" 2>/dev/null || umount -l "$tmpfs" 2>/dev/null
	fi
	[ -n "$scratch" ] && rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
# difftest runs in the background and is waited for, so that a signal ends
# it (and, by PR_SET_PDEATHSIG, its peers) and unmounts at once.
trap 'exit 1' INT TERM HUP

# A tmpfs of its own at $1. Its huge= follows the kernel's shmem_enabled, as
# the memfds of umm's heap do, so that both hold memory in the same pages.
mount_tmpfs() {
	local huge opts=size=256m,mode=0755
	huge=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null)
	case $huge in
	always | within_size | advise | never) opts=$opts,huge=$huge ;;
	esac
	mkdir -p "$1" && mount -t tmpfs -o "$opts" difftest "$1"
}

if [ $self = 1 ]; then
	if [ "$(id -u)" = 0 ]; then
		scratch=$(mktemp -d /tmp/difftest.XXXXXX) || exit 1
		tmpfs=$scratch/tmpfs
		mount_tmpfs "$tmpfs" || { say "cannot mount a tmpfs"; exit 1; }
		base=$tmpfs
	elif [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		scratch=$(mktemp -d /dev/shm/difftest.XXXXXX) || exit 1
		base=$scratch
	else
		say "SKIP: not root, and /dev/shm is no tmpfs"
		exit 77
	fi
	ref=$base/ref
	other=$base/other
else
	: "${UMM_MNT:?UMM_MNT is not set: run this through run-mounted.sh (or with --self)}"
	: "${UMM_TMP:?UMM_TMP is not set: run this through run-mounted.sh}"
	tmpfs=$UMM_TMP/tmpfs
	mount_tmpfs "$tmpfs" || { say "cannot mount a tmpfs at $tmpfs"; exit 1; }
	ref=$tmpfs/diff
	other=$UMM_MNT/diff
fi
mkdir "$ref" "$other" || exit 1

args=(--seed "$seed" --seqs "${DIFFTEST_SEQS:-200}" --ops "${DIFFTEST_OPS:-40}"
	--procs "${DIFFTEST_PROCS:-2}")
[ "${DIFFTEST_VERBOSE:-0}" = 1 ] && args+=(--verbose)
read -ra more <<<"${DIFFTEST_ARGS:-}"
args+=("${more[@]}")
say "${UMM_MODE:-self}: $DIFFTEST ${args[*]} $ref $other"
"$DIFFTEST" "${args[@]}" "$ref" "$other" &
child=$!
wait "$child"
status=$?
child=
rmdir "$other" "$ref" 2>/dev/null
exit $status
