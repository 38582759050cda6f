#!/bin/bash
# test_transport.sh - how requests reach the daemon: FUSE over io_uring
# where libfuse (3.18) and the kernel (the fuse module's enable_uring) both
# have it, else /dev/fuse; -o nouring keeps to /dev/fuse. The start-up line
# says which and why, and user.umm.stats ends with the transport of the
# request that read it. The runner's mount is the default; a second daemon
# is mounted with -o nouring.
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FS_BIN=${UMM_FS:-${UMM_FS_BINARY:-}}
URING_PARAM=/sys/module/fuse/parameters/enable_uring

transport_of() {
	xget "$1" user.umm.stats | tr ' ' '\n' | sed -n 's/^transport=//p'
}

# Does this umm-fs have io_uring built in (libfuse >= 3.18)?
built_with_uring() {
	"$FS_BIN" --version | grep -q 'io_uring built in'
}

kernel_offers_uring() {
	[ -r "$URING_PARAM" ] && grep -qx 'Y' "$URING_PARAM"
}

test_the_default_mount_takes_what_there_is() {
	local t
	[ -x "$FS_BIN" ] || fail 'UMM_FS (the daemon binary) is not set'
	t=$(transport_of "$UMM_MNT")
	echo "    $("$FS_BIN" --version); enable_uring: $(cat "$URING_PARAM" 2>/dev/null || echo absent); transport=$t"
	if built_with_uring && kernel_offers_uring; then
		expect_eq io_uring "$t" 'transport of the default mount'
		grep -q 'serving requests over io_uring' "$UMM_FS_LOG" ||
			fail "no start-up line for io_uring: $(head -n 3 "$UMM_FS_LOG")"
	else
		expect_eq dev_fuse "$t" 'transport without io_uring'
		grep -q 'serving requests from /dev/fuse (' "$UMM_FS_LOG" ||
			fail "no start-up line saying why /dev/fuse: $(head -n 3 "$UMM_FS_LOG")"
	fi
	# every request works whatever the transport: a buffer, written and read back
	mkdir "$UMM_MNT/t"
	printf 'over %s\n' "$t" >"$UMM_MNT/t/b"
	expect_eq "over $t" "$(cat "$UMM_MNT/t/b")" 'a buffer read back'
	rm -r "$UMM_MNT/t"
}

test_nouring_keeps_to_dev_fuse() {
	local m2=$UMM_TMP/m2
	[ -x "$FS_BIN" ] || fail 'UMM_FS (the daemon binary) is not set'
	built_with_uring || skip "this umm-fs has no io_uring (libfuse < 3.18): nothing to turn off"
	start_own_fs "$m2" "$UMM_TMP/s2" nouring
	expect_eq dev_fuse "$(transport_of "$m2")" 'transport with -o nouring'
	grep -q 'serving requests from /dev/fuse (-o nouring)' "$m2.log" ||
		fail "no start-up line for -o nouring: $(cat "$m2.log")"
	echo hello >"$m2/b"
	expect_eq hello "$(cat "$m2/b")" 'a buffer read back over /dev/fuse'
	fusermount3 -u "$m2"
	wait_until 100 "! kill -0 $own_fs_pid 2>/dev/null" || fail 'the daemon did not leave after the unmount'
}

check test_the_default_mount_takes_what_there_is
check test_nouring_keeps_to_dev_fuse
finish
