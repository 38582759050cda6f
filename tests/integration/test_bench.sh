#!/bin/bash
# test_bench.sh - umm-bench (issue 5): its quick mode runs, prints a row for
# every scenario and every available target, writes JSON with the documented
# keys and a targets section, and leaves nothing mounted. Never a timing test:
# no figure is compared with anything.
#
# Standalone (umm-bench mounts by itself). meson gives UMM_BENCH and UMM_FS.
# Exit 77 (skipped) when not root or without /dev/fuse.
#
#   UMM_BENCH=build/tools/umm-bench UMM_FS=build/fs/umm-fs tests/integration/test_bench.sh

# Helpers below run from checks and traps; the --umm-fs wrappers are
# written in single quotes, to expand when they run.
# shellcheck disable=SC2317,SC2016
set -euo pipefail

: "${UMM_BENCH:?UMM_BENCH is not set (the umm-bench binary)}"
: "${UMM_FS:?UMM_FS is not set (the umm-fs binary)}"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: umm-bench mounts FUSE and tmpfs file systems: run as root"
	exit 77
fi
if [ ! -c /dev/fuse ]; then
	echo "SKIP: no /dev/fuse on this machine"
	exit 77
fi
if ! command -v jq >/dev/null; then
	echo "SKIP: jq is not installed"
	exit 77
fi
UMM_BENCH=$(readlink -f "$UMM_BENCH")
UMM_FS=$(readlink -f "$UMM_FS")
[ -x "$UMM_BENCH" ] || { echo "umm-bench '$UMM_BENCH' is missing"; exit 1; }
[ -x "$UMM_FS" ] || { echo "umm-fs '$UMM_FS' is missing"; exit 1; }
export UMM_FS

tmp=$(mktemp -d /tmp/umm-test-bench.XXXXXX)
# umm-bench makes its temp dir (and mounts) under $TMPDIR: here, inside ours.
export TMPDIR=$tmp

# Every mount point under $tmp, deepest first.
mounts_under_tmp() {
	awk -v t="$tmp" 'index($2, t "/") == 1 { print $2 }' /proc/mounts | sort -r
}

cleanup() {
	local m
	for m in $(mounts_under_tmp); do
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

npass=0
nfail=0
failed=()

fail() {
	printf '    FAIL: %s\n' "$*" >&2
	exit 1
}

check() {
	local rc
	printf -- '--- %s\n' "$1"
	set +e
	(set -euo pipefail && "$1")
	rc=$?
	set -e
	if [ $rc = 0 ]; then
		printf 'ok   %s\n' "$1"
		npass=$((npass + 1))
	else
		printf 'FAIL %s (status %s)\n' "$1" "$rc"
		nfail=$((nfail + 1))
		failed+=("$1")
	fi
}

# The scenarios of --quick and the targets that are always there.
quick_scenarios="alloc-4K alloc-64K alloc-1M mapped-write mapped-read write-4K read-4K
	write-1M read-1M stat getxattr list export concurrent-1 concurrent-2 concurrent-4
	concurrent-8 daemon-rss"
always_targets="umm umm-nopt umm-dev tmpfs memfd"
all_targets="umm umm-nopt umm-dev tmpfs memfd dma-heap udmabuf"

expect_nothing_left_under_tmp() {
	local left
	left=$(mounts_under_tmp)
	[ -z "$left" ] || fail "still mounted after umm-bench: $left"
	left=$(find "$tmp" -maxdepth 1 -name 'umm-bench.*')
	[ -z "$left" ] || fail "umm-bench left its temp dir: $left"
	left=$(find /dev/shm -maxdepth 1 -name 'umm-bench.*' 2>/dev/null)
	[ -z "$left" ] || fail "umm-bench left in /dev/shm: $left"
}

# One quick run, shared by the checks that read its output.
out=$tmp/quick.txt
json=$tmp/b.json
set +e
timeout -s INT 120 "$UMM_BENCH" --quick --json "$json" >"$out" 2>&1
quick_rc=$?
set -e
sed 's/^/    | /' "$out"

test_bench_quick_runs_and_exits_0() {
	[ "$quick_rc" = 0 ] || fail "umm-bench --quick exited with status $quick_rc"
	grep -q '^JSON written to ' "$out" || fail "no final 'JSON written to' line"
}

test_bench_quick_prints_every_scenario_for_every_available_target() {
	local s t targets
	# The targets umm-bench says it has (dma-heap and udmabuf where present).
	targets=$(awk '$1 ~ /^(umm|umm-nopt|umm-dev|tmpfs|memfd|dma-heap|udmabuf)$/ && $2 == "yes" { print $1 }' "$out")
	for t in $always_targets; do
		grep -qx "$t" <<<"$targets" || fail "target $t is not listed as available"
	done
	for t in dma-heap udmabuf; do
		grep -Eq "^  $t +(yes|no) " "$out" || fail "no availability line for $t"
	done
	for s in $quick_scenarios; do
		for t in $targets; do
			grep -Eq "^$s +$t +" "$out" || fail "no row for $s on $t"
		done
	done
	grep -Eq '^daemon-rss +umm +[0-9.]+ ' "$out" || fail "no daemon-rss figure for umm"
	grep -Eq '^alloc-4K +tmpfs +[0-9.]+ .* 1\.00$' "$out" || fail "tmpfs is not its own reference"
}

test_bench_json_has_the_documented_keys() {
	local s t n
	jq -e . "$json" >/dev/null || fail "$json does not parse"
	jq -e '.tool == "umm-bench" and .mode == "quick" and (.repetitions | type == "number")
		and (.seconds | type == "number")' "$json" >/dev/null || fail "top-level keys are wrong"
	for t in $all_targets; do
		jq -e --arg t "$t" '[.available[] | select(.target == $t)
			| select(has("available") and has("note"))] | length == 1' "$json" >/dev/null ||
			fail "no 'available' entry for $t"
	done
	jq -e '.results | length > 0 and all(.[]; has("scenario") and has("target") and has("unit")
		and has("better") and has("size") and has("block") and has("ops") and has("median")
		and has("min") and has("max") and has("ratio") and has("samples") and has("note"))' \
		"$json" >/dev/null || fail "a result lacks a documented key"
	for s in $quick_scenarios; do
		for t in $always_targets; do
			n=$(jq --arg s "$s" --arg t "$t" \
				'[.results[] | select(.scenario == $s and .target == $t)] | length' "$json")
			[ "$n" = 1 ] || fail "$n results for $s on $t in the JSON"
		done
	done
	jq -e '[.results[] | select(.target == "tmpfs" and .median != null)]
		| all(.[]; .ratio == 1)' "$json" >/dev/null || fail "tmpfs's ratio to itself is not 1"
	# the umm targets say their transport; umm-dev keeps to /dev/fuse (-o nouring)
	jq -e '[.available[] | select(.target | startswith("umm")) | .transport]
		| all(.[]; . == "io_uring" or . == "dev_fuse")' "$json" >/dev/null ||
		fail "a umm target has no transport: $(jq -c '.available' "$json")"
	jq -e '[.results[] | select(.target | startswith("umm")) | has("transport")] | all' \
		"$json" >/dev/null || fail "a umm result has no transport"
	jq -e '.available[] | select(.target == "umm-dev") | .transport == "dev_fuse"' "$json" \
		>/dev/null || fail "umm-dev is not served over /dev/fuse"
	echo "    transports: $(jq -r '[.available[] | select(.transport) | "\(.target)=\(.transport)"] | join(" ")' "$json")"
}

test_bench_targets_section_lists_each_target() {
	local g
	jq -e '.targets | length > 0 and all(.[]; has("scenario") and has("target")
		and has("measure") and has("unit") and has("cmp") and has("limit")
		and has("measured") and (.verdict | IN("met", "missed", "unmeasured")))' \
		"$json" >/dev/null || fail "a targets entry lacks a documented key"
	# Each goal of issue 5 that --quick measures, for both umm targets.
	for g in mapped-write mapped-read write-1M read-1M alloc-4K alloc-1M stat getxattr \
		list export daemon-rss; do
		for t in umm umm-nopt; do
			jq -e --arg s "$g" --arg t "$t" \
				'[.targets[] | select(.scenario == $s and .target == $t)] | length == 1' \
				"$json" >/dev/null || fail "no target entry for $g on $t"
			grep -Eq "^$g +$t +(>=|<=)[0-9.]+x? .*(met|missed|unmeasured)$" "$out" ||
				fail "no targets line for $g on $t"
		done
	done
}

test_bench_leaves_nothing_mounted() {
	expect_nothing_left_under_tmp
}

test_bench_only_runs_the_chosen_scenarios() {
	local o=$tmp/only.txt
	"$UMM_BENCH" --quick -r 1 --only stat,export --json "$tmp/only.json" >"$o" 2>&1 ||
		fail "umm-bench --only exited with status $?"
	grep -Eq '^stat +umm ' "$o" || fail "no stat row"
	grep -Eq '^export +umm ' "$o" || fail "no export row"
	! grep -Eq '^alloc-' "$o" || fail "--only stat,export ran an alloc scenario"
	expect_nothing_left_under_tmp
}

test_bench_bad_options_fail_and_mount_nothing() {
	local rc=0
	"$UMM_BENCH" -r 0 >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || fail "umm-bench -r 0: status $rc, expected 1"
	grep -q "bad value '0' for -r" "$tmp/err" || fail "no message about -r"
	rc=0
	"$UMM_BENCH" --quick --umm-fs /nonexistent/umm-fs --json "$tmp/x.json" >/dev/null 2>&1 ||
		rc=$?
	[ "$rc" = 1 ] || fail "umm-bench --umm-fs /nonexistent: status $rc, expected 1"
	expect_nothing_left_under_tmp
}

test_bench_interrupted_cleans_up() {
	local pid rc=0 i
	"$UMM_BENCH" --json "$tmp/int.json" >"$tmp/int.txt" 2>&1 &
	pid=$!
	# Wait until the table has begun, so that everything is mounted.
	for ((i = 0; i < 100; i++)); do
		grep -q '^alloc-4K' "$tmp/int.txt" && break
		sleep 0.1
	done
	kill -INT "$pid"
	wait "$pid" || rc=$?
	[ "$rc" = 130 ] || fail "umm-bench after SIGINT: status $rc, expected 130"
	expect_nothing_left_under_tmp
}

# A --umm-fs wrapper named $1 in $tmp, whose body is the rest; it can run
# the real umm-fs as "$UMM_FS" "$@" and note pids in $tmp/$1.pids.
make_umm_fs() {
	local name=$1
	shift
	printf '#!/bin/bash\n%s\n' "$*" >"$tmp/$name"
	chmod +x "$tmp/$name"
	: >"$tmp/$name.pids"
}

# Fail if a pid listed in $1 is still running (a zombie is not).
expect_pids_gone() {
	local pid state
	while read -r pid; do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
		[ -z "$state" ] || [ "$state" = Z ] || fail "process $pid of the --umm-fs is left running"
	done <"$1"
}

# Run umm-bench in the background, output in $tmp/$1.txt; sets bench_pid.
start_bench() {
	local name=$1
	shift
	"$UMM_BENCH" "$@" --json "$tmp/$name.json" >"$tmp/$name.txt" 2>&1 &
	bench_pid=$!
}

# Wait until $1 shows the first row of the table (everything is mounted).
wait_for_table() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^alloc-4K' "$1" && return 0
		sleep 0.1
	done
	fail "umm-bench printed no row in 20 s"
}

test_bench_umm_fs_that_exits_before_mounting_fails_and_leaves_nothing() {
	local rc=0
	make_umm_fs exit1 'sleep 0.2; echo "fake umm-fs: init failed" >&2; exit 1'
	"$UMM_BENCH" --quick --umm-fs "$tmp/exit1" --json "$tmp/x.json" >"$tmp/out" 2>&1 || rc=$?
	sed 's/^/    | /' "$tmp/out"
	[ "$rc" = 1 ] || fail "status $rc, expected 1"
	grep -q 'umm-fs exited (exit status 1) before it mounted' "$tmp/out" || fail "no clear message"
	grep -q 'fake umm-fs: init failed' "$tmp/out" || fail "the end of umm-fs's log is not shown"
	expect_nothing_left_under_tmp
}

# umm-fs mounts, then fails in its init (its export socket cannot be made)
# and unmounts: umm-bench once ran on the bare directory, died of SIGBUS and
# left its tmpfs mounted and its temp dir.
test_bench_umm_fs_that_fails_after_mounting_fails_and_leaves_nothing() {
	local rc=0
	make_umm_fs badsock 'exec "$UMM_FS" "$1" "$2" "$3" "${4/socket=/socket=$0\/}"'
	"$UMM_BENCH" --quick --umm-fs "$tmp/badsock" --json "$tmp/x.json" >"$tmp/out" 2>&1 || rc=$?
	sed 's/^/    | /' "$tmp/out"
	[ "$rc" = 1 ] || fail "status $rc, expected 1"
	grep -Eq 'umm-fs exited \(exit status 1\) before it (mounted|answered)' "$tmp/out" ||
		fail "no clear message"
	grep -q 'export socket' "$tmp/out" || fail "the end of umm-fs's log is not shown"
	expect_nothing_left_under_tmp
}

test_bench_umm_fs_that_never_mounts_times_out_and_is_ended() {
	local rc=0 t0
	make_umm_fs hang 'echo $$ >>"$0.pids"; sleep 1000 & echo $! >>"$0.pids"; wait'
	t0=$SECONDS
	"$UMM_BENCH" --quick --umm-fs "$tmp/hang" --json "$tmp/x.json" >"$tmp/out" 2>&1 || rc=$?
	sed 's/^/    | /' "$tmp/out"
	[ "$rc" = 1 ] || fail "status $rc, expected 1"
	grep -q 'umm-fs did not mount within 10 s' "$tmp/out" || fail "no clear message"
	[ $((SECONDS - t0)) -lt 30 ] || fail "took $((SECONDS - t0)) s to give up"
	[ -s "$tmp/hang.pids" ] || fail "the wrapper never ran"
	expect_pids_gone "$tmp/hang.pids"
	expect_nothing_left_under_tmp
}

test_bench_umm_fs_killed_mid_run_is_an_error_and_leaves_nothing() {
	local rc=0 fs_pid
	start_bench killed
	wait_for_table "$tmp/killed.txt"
	fs_pid=$(awk '$1 == "umm-nopt" && $4 == "pid" { sub(",", "", $5); print $5 }' "$tmp/killed.txt")
	[ -n "$fs_pid" ] || fail "no pid of umm-fs in the table"
	kill -KILL "$fs_pid"
	wait "$bench_pid" || rc=$?
	sed 's/^/    | /' "$tmp/killed.txt"
	[ "$rc" = 1 ] || fail "status $rc, expected 1"
	grep -q "umm-fs of umm-nopt (pid $fs_pid) died during the run (killed by SIGKILL)" \
		"$tmp/killed.txt" || fail "no clear message"
	expect_nothing_left_under_tmp
}

test_bench_killed_by_sigkill_is_cleaned_up_after() {
	local rc=0 child
	start_bench sigkill
	wait_for_table "$tmp/sigkill.txt"
	# The pid we started is the guard; the benchmark is its child.
	child=$(pgrep -P "$bench_pid" | head -n 1)
	[ -n "$child" ] || fail "no benchmark process under umm-bench"
	kill -KILL "$child"
	wait "$bench_pid" || rc=$?
	sed 's/^/    | /' "$tmp/sigkill.txt"
	[ "$rc" = 137 ] || fail "status $rc, expected 137"
	grep -q 'the benchmark died of SIGKILL; cleaned up after it' "$tmp/sigkill.txt" ||
		fail "no message"
	expect_nothing_left_under_tmp
}

# A daemon that stops answering holds the benchmark in the kernel past
# SIGINT: umm-bench ends the daemons itself then, and cleans up.
test_bench_stuck_on_a_stopped_umm_fs_ends_it_after_sigint() {
	local rc=0
	make_umm_fs stopmid '"$UMM_FS" "$@" & echo $! >>"$0.pids"; sleep 1; kill -STOP $!; wait'
	start_bench stuck --umm-fs "$tmp/stopmid"
	sleep 4
	kill -INT "$bench_pid"
	wait "$bench_pid" || rc=$?
	sed 's/^/    | /' "$tmp/stuck.txt"
	[ "$rc" = 130 ] || fail "status $rc, expected 130"
	expect_pids_gone "$tmp/stopmid.pids"
	expect_nothing_left_under_tmp
}

test_bench_help_and_version() {
	"$UMM_BENCH" --help | grep -q '^usage: umm-bench' || fail "--help prints no usage"
	"$UMM_BENCH" --version | grep -q '^umm-bench [0-9]' || fail "--version prints no version"
}

check test_bench_quick_runs_and_exits_0
check test_bench_quick_prints_every_scenario_for_every_available_target
check test_bench_json_has_the_documented_keys
check test_bench_targets_section_lists_each_target
check test_bench_leaves_nothing_mounted
check test_bench_only_runs_the_chosen_scenarios
check test_bench_bad_options_fail_and_mount_nothing
check test_bench_interrupted_cleans_up
check test_bench_umm_fs_that_exits_before_mounting_fails_and_leaves_nothing
check test_bench_umm_fs_that_fails_after_mounting_fails_and_leaves_nothing
check test_bench_umm_fs_that_never_mounts_times_out_and_is_ended
check test_bench_umm_fs_killed_mid_run_is_an_error_and_leaves_nothing
check test_bench_killed_by_sigkill_is_cleaned_up_after
check test_bench_stuck_on_a_stopped_umm_fs_ends_it_after_sigint
check test_bench_help_and_version

printf '=== %s: %d passed, %d failed\n' "$(basename "$0")" "$npass" "$nfail"
if [ "$nfail" -gt 0 ]; then
	printf '=== failed: %s\n' "${failed[*]}"
	exit 1
fi
exit 0
