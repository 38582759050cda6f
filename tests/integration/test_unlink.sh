#!/bin/bash
# test_unlink.sh - unlink removes the name at once; the memory lives on, and
# stays readable, while a process holds the buffer open, and is freed when the
# last holder goes (SPEC 5).
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
S=$UMM_TMP/src
mkdir -p "$S"

# Bytes the mount's budget holds (df used): an unlinked buffer leaves its
# directories' used_bytes at once, but the mount (and its owner) stay charged
# until the memory is freed.
mount_used() {
	df -B1 --output=used "$M" | tail -n 1 | tr -d ' '
}

wait_mount_used() {
	wait_until 30 "[ \"\$(mount_used)\" = '$1' ]" ||
		fail "df used is $(mount_used), expected $1"
}

# reader FILE OUT: a background holder that opens FILE, says so by creating
# OUT.ready, waits for OUT.go, then copies what it reads from its fd to OUT.
# Its pid goes to reader_pid.
reader_pid=
reader() {
	local f=$1 out=$2
	# shellcheck disable=SC2016
	bash -c 'exec 3<"$1" || exit 1
		: >"$2.ready"
		while [ ! -e "$2.go" ]; do sleep 0.05; done
		cat <&3 >"$2"' reader "$f" "$out" </dev/null >/dev/null 2>&1 &
	reader_pid=$!
	on_exit "kill $reader_pid 2>/dev/null; wait $reader_pid 2>/dev/null"
	wait_until 50 "[ -e '$out.ready' ]" || fail "reader of $f did not start"
}

test_unlinked_buffer_stays_readable_by_its_holder() {
	local d before out rc
	d=$(newdir unlink)
	before=$(mount_used)
	make_data "$S/data" 300000
	cp "$S/data" "$d/f"
	out=$UMM_TMP/unlink.out
	reader "$d/f" "$out"
	rm "$d/f"
	[ ! -e "$d/f" ] || fail 'name still there after rm'
	expect_errno ENOENT cat "$d/f"
	expect_eq '' "$(ls -A "$d")" 'dir listing after rm'
	# The memory is still held, and charged to the mount, while the reader
	# holds it; the directory no longer holds it.
	expect_eq $((before + 303104)) "$(mount_used)" 'df used while held'
	expect_eq 0 "$(used_bytes "$d")" 'dir used_bytes after the unlink'
	: >"$out.go"
	set +e
	wait "$reader_pid"
	rc=$?
	set -e
	expect_eq 0 "$rc" 'reader exit status'
	cmp "$S/data" "$out" || fail 'the holder read other bytes after the unlink'
	wait_mount_used "$before"
}

test_unlinked_buffer_can_be_reopened_through_proc() {
	local d
	d=$(newdir unlinkproc)
	make_data "$S/p" 5000
	cp "$S/p" "$d/f"
	hold "$d/f" '<'
	rm "$d/f"
	cmp "$S/p" "/proc/$held_pid/fd/3" || fail 'reopen of the unlinked buffer via /proc differs'
	unhold "$held_pid"
}

test_unlink_of_a_sized_buffer_with_writer() {
	local d before
	d=$(newdir unlinkw)
	before=$(mount_used)
	xset "$d" user.umm.size 64K
	touch "$d/f"
	hold "$d/f" '>>'
	rm "$d/f"
	touch "$d/f"
	expect_eq 65536 "$(stat -c %s "$d/f")" 'a new buffer under the old name'
	expect_eq $((before + 131072)) "$(mount_used)" 'both buffers charged to the mount while the old one is held'
	expect_eq 65536 "$(used_bytes "$d")" 'dir used_bytes: only the new buffer'
	unhold "$held_pid"
	wait_mount_used $((before + 65536))
}

test_rmdir_after_unlink_while_held() {
	local d before
	d=$(newdir unlinkdir)
	before=$(mount_used)
	mkdir "$d/sub"
	printf x >"$d/sub/f"
	hold "$d/sub/f" '<'
	rm "$d/sub/f"
	rmdir "$d/sub"
	[ ! -e "$d/sub" ] || fail 'dir still there'
	expect_eq $((before + 4096)) "$(mount_used)" 'df used while held'
	unhold "$held_pid"
	wait_mount_used "$before"
	expect_eq 0 "$(used_bytes "$d")" 'parent used_bytes after the release'
}

check test_unlinked_buffer_stays_readable_by_its_holder
check test_unlinked_buffer_can_be_reopened_through_proc
check test_unlink_of_a_sized_buffer_with_writer
check test_rmdir_after_unlink_while_held
finish
