#!/bin/bash
# test_demo.sh - umm-demo, the zero-copy pipeline (issue 4): it mounts by
# itself, runs producer -> filter -> consumer, proves with the daemon's
# counters that no byte went through read()/write(), writes PPM files, and
# leaves no mount, process or temp dir behind.
#
# Standalone (it mounts nothing for umm-demo, which mounts by itself). meson
# gives UMM_DEMO, UMM_FS, UMM_LS (which may not exist yet). Exit 77 (skipped)
# when not root or without /dev/fuse.
#
#   UMM_DEMO=build/tools/umm-demo UMM_FS=build/fs/umm-fs tests/integration/test_demo.sh

# Helpers below run from checks and traps.
# shellcheck disable=SC2317
set -euo pipefail

: "${UMM_DEMO:?UMM_DEMO is not set (the umm-demo binary)}"
: "${UMM_FS:?UMM_FS is not set (the umm-fs binary)}"
: "${UMM_LS:=}"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: umm-demo mounts a FUSE file system: run as root"
	exit 77
fi
if [ ! -c /dev/fuse ]; then
	echo "SKIP: no /dev/fuse on this machine"
	exit 77
fi
UMM_DEMO=$(readlink -f "$UMM_DEMO")
UMM_FS=$(readlink -f "$UMM_FS")
[ -x "$UMM_DEMO" ] || { echo "umm-demo '$UMM_DEMO' is missing"; exit 1; }
[ -x "$UMM_FS" ] || { echo "umm-fs '$UMM_FS' is missing"; exit 1; }

tmp=$(mktemp -d /tmp/umm-test-demo.XXXXXX)
# umm-demo makes its temp dir (and mount) under $TMPDIR: here, inside ours.
export TMPDIR=$tmp
own_fs_pid=

# Every mount point under $tmp, deepest first.
mounts_under_tmp() {
	awk -v t="$tmp" 'index($2, t "/") == 1 { print $2 }' /proc/mounts | sort -r
}

cleanup() {
	local m
	for m in $(mounts_under_tmp); do
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ -n "$own_fs_pid" ]; then
		kill "$own_fs_pid" 2>/dev/null || true
		wait "$own_fs_pid" 2>/dev/null || true
	fi
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

note() {
	printf '    %s\n' "$*" >&2
}

# check FUNC: run one behaviour check in a subshell with errexit.
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

# run_demo OUTFILE ARGS...: run umm-demo, its output (both streams) into
# OUTFILE and shown indented; returns its exit status.
run_demo() {
	local out=$1 rc
	shift
	set +e
	timeout -s INT 120 "$UMM_DEMO" "$@" >"$out" 2>&1
	rc=$?
	set -e
	sed 's/^/    | /' "$out"
	return "$rc"
}

# The value of KEY= in a user.umm.stats line.
stat_of() {
	tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# expect_ppm FILE W H: a binary PPM of W x H pixels, header and size exactly.
expect_ppm() {
	local f=$1 w=$2 h=$3 hdr=$tmp/ppm-header hlen
	[ -f "$f" ] || fail "$f was not written"
	# Through a file: $(...) would drop the header's final newline.
	printf 'P6\n%d %d\n255\n' "$w" "$h" >"$hdr"
	hlen=$(stat -c %s "$hdr")
	head -c "$hlen" "$f" | cmp -s - "$hdr" ||
		fail "$f does not start with a P6 header for ${w}x$h: $(head -c 16 "$f" | od -c | head -n 2)"
	[ "$(stat -c %s "$f")" = $((hlen + w * h * 3)) ] ||
		fail "$f is $(stat -c %s "$f") bytes, not $((hlen + w * h * 3))"
}

# The RGB bytes of pixel (0,0) of a PPM file, as "R G B".
first_pixel() {
	local header
	header=$(head -n 3 "$1" | wc -c)
	od -A n -t u1 -j "$header" -N 3 "$1" | xargs
}

# Every pid umm-demo reported (daemon, roles) must be gone.
expect_no_pids_left() {
	local pids pid
	pids=$(grep -o 'pid [0-9]*' "$1" | awk '{ print $2 }' | sort -u)
	[ -n "$pids" ] || fail "umm-demo reported no pids"
	for pid in $pids; do
		if [ -e "/proc/$pid" ]; then
			fail "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) is still there after umm-demo"
		fi
	done
}

expect_nothing_left_under_tmp() {
	local left
	left=$(mounts_under_tmp)
	[ -z "$left" ] || fail "still mounted after umm-demo: $left"
	left=$(find "$tmp" -maxdepth 1 -name 'umm-demo.*')
	[ -z "$left" ] || fail "umm-demo left its temp dir: $left"
}

test_demo_runs_the_pipeline_without_read_or_write_and_cleans_up() {
	local out=$tmp/run1.txt before after k
	run_demo "$out" -W 64 -H 48 -n 20 -r 3 -o "$tmp/out1" || fail "umm-demo exited with status $?"

	grep -q '^frames per second  *[0-9][0-9.]*$' "$out" || fail "no 'frames per second' line"
	grep -q '^pixels checked  *0 wrong in 20 frames$' "$out" || fail "no '0 wrong in 20 frames' line"
	before=$(sed -n 's/^  before  *//p' "$out")
	after=$(sed -n 's/^  after  *//p' "$out")
	if [ -z "$before" ] || [ -z "$after" ]; then
		fail "no user.umm.stats lines before/after"
	fi
	for k in read_bytes write_bytes; do
		[ -n "$(stat_of "$before" "$k")" ] || fail "no $k= in '$before'"
		[ "$(stat_of "$before" "$k")" = "$(stat_of "$after" "$k")" ] ||
			fail "$k changed during the run: '$before' -> '$after'"
	done
	grep -q '^read()/write()  *0 bytes' "$out" || fail "no 'read()/write() 0 bytes' line"

	# The first, middle and last frames, as the consumer saw them.
	[ "$(find "$tmp/out1" -name '*.ppm' | wc -l)" = 3 ] ||
		fail "expected 3 PPM files, got: $(ls "$tmp/out1")"
	for k in 000000 000010 000019; do
		expect_ppm "$tmp/out1/frame-$k.ppm" 64 48
	done
	# Pixel (0,0) is bit 0 of the frame number (white for 1), inverted by the filter.
	[ "$(first_pixel "$tmp/out1/frame-000000.ppm")" = "255 255 255" ] ||
		fail "frame 0: pixel (0,0) is $(first_pixel "$tmp/out1/frame-000000.ppm"), not inverted black"
	[ "$(first_pixel "$tmp/out1/frame-000019.ppm")" = "0 0 0" ] ||
		fail "frame 19: pixel (0,0) is $(first_pixel "$tmp/out1/frame-000019.ppm"), not inverted white"

	grep -q 'unmounted .* and removed' "$out" || fail "no final 'unmounted ... and removed' line"
	expect_nothing_left_under_tmp
	expect_no_pids_left "$out"
}

test_demo_lists_the_ring_with_umm_ls_while_the_roles_hold_it() {
	local out=$tmp/run2.txt
	run_demo "$out" -W 64 -H 48 -n 5 -r 2 -o "$tmp/out2" || fail "umm-demo exited with status $?"
	if [ -z "$UMM_LS" ] || [ ! -x "$UMM_LS" ]; then
		# umm-demo also looks in $PATH; without umm-ls it says so in one line.
		if grep -q '^\$ umm-ls -l -p ' "$out"; then
			return 0
		fi
		grep -q 'umm-ls not found' "$out" || fail "neither a listing nor a note that umm-ls is missing"
		note "umm-ls is not built: only the note was checked"
		return 0
	fi
	grep -q '^\$ umm-ls -l -p .*/ring$' "$out" || fail "no '\$ umm-ls -l -p .../ring' line"
	sed -n '/^\$ umm-ls/,$p' "$out" | grep -q 'frame0$' || fail "the listing does not show frame0"
	sed -n '/^\$ umm-ls/,$p' "$out" | grep -q 'frame1$' || fail "the listing does not show frame1"
	expect_nothing_left_under_tmp
}

test_demo_on_a_nopassthrough_mount_maps_memfds_and_removes_its_ring() {
	local out=$tmp/run3.txt i before after
	# Not local: the EXIT trap runs after the function has returned.
	mnt=$tmp/own-mnt
	mkdir "$mnt"
	# This check's own mount and daemon go when it ends, whatever happened.
	# (errexit holds in the trap too, hence the "|| true".)
	trap 'fusermount3 -u "$mnt" 2>/dev/null || true; kill "$own_fs_pid" 2>/dev/null || true
		wait "$own_fs_pid" 2>/dev/null || true' EXIT
	"$UMM_FS" "$mnt" -f -o "socket=$tmp/own.sock,size=16M,nopassthrough" </dev/null \
		>"$tmp/own-fs.log" 2>&1 &
	own_fs_pid=$!
	for ((i = 0; i < 100; i++)); do
		awk -v m="$mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts && break
		sleep 0.1
	done
	awk -v m="$mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts || fail "umm-fs did not mount"

	run_demo "$out" -m "$mnt" -W 64 -H 48 -n 12 -r 2 -o "$tmp/out3" ||
		fail "umm-demo -m exited with status $?"
	grep -q 'umm_open() and umm_export()' "$out" ||
		fail "no note that the roles map memfds from libumm"
	before=$(sed -n 's/^  before  *//p' "$out")
	after=$(sed -n 's/^  after  *//p' "$out")
	for i in read_bytes write_bytes; do
		[ -n "$(stat_of "$before" "$i")" ] || fail "no $i= in '$before'"
		[ "$(stat_of "$before" "$i")" = "$(stat_of "$after" "$i")" ] ||
			fail "$i changed during the run: '$before' -> '$after'"
	done
	# Each of the three roles traded one fd per slot.
	[ $(($(stat_of "$after" exports) - $(stat_of "$before" exports))) = 6 ] ||
		fail "expected 6 exports during the run: '$before' -> '$after'"
	expect_ppm "$tmp/out3/frame-000011.ppm" 64 48
	[ ! -e "$mnt/ring" ] || fail "umm-demo -m left $mnt/ring behind"
	awk -v m="$mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts ||
		fail "umm-demo -m unmounted a mount that is not its own"

	fusermount3 -u "$mnt"
	wait "$own_fs_pid" || fail "umm-fs ended with status $?"
}

test_demo_with_a_bad_option_fails_and_mounts_nothing() {
	local out=$tmp/run4.txt rc=0
	run_demo "$out" -r 0 -o "$tmp/out4" || rc=$?
	[ "$rc" = 1 ] || fail "umm-demo -r 0: status $rc, expected 1"
	grep -q -- "bad value '0' for -r" "$out" || fail "no message about -r"
	rc=0
	run_demo "$out" --umm-fs /nonexistent/umm-fs -o "$tmp/out4" || rc=$?
	[ "$rc" = 1 ] || fail "umm-demo --umm-fs /nonexistent: status $rc, expected 1"
	expect_nothing_left_under_tmp
}

test_demo_help_and_version() {
	"$UMM_DEMO" --help | grep -q '^usage: umm-demo' || fail "--help prints no usage"
	"$UMM_DEMO" --version | grep -q '^umm-demo [0-9]' || fail "--version prints no version"
}

check test_demo_runs_the_pipeline_without_read_or_write_and_cleans_up
check test_demo_lists_the_ring_with_umm_ls_while_the_roles_hold_it
check test_demo_on_a_nopassthrough_mount_maps_memfds_and_removes_its_ring
check test_demo_with_a_bad_option_fails_and_mounts_nothing
check test_demo_help_and_version

printf '=== %s: %d passed, %d failed\n' "$(basename "$0")" "$npass" "$nfail"
if [ "$nfail" -gt 0 ]; then
	printf '=== failed: %s\n' "${failed[*]}"
	exit 1
fi
exit 0
