#!/bin/bash
# test_sized.sh - the buffer life cycle (man umm.7, LIFE CYCLE OF A BUFFER):
# a buffer of a directory without user.umm.size is a file as on tmpfs until
# its first export, whoever reads or holds it (no open, read or mapping fixes
# its size); the first export fixes its size for good (a resize that changes
# it is EBUSY, with a line in the daemon's log; an extending write EPERM);
# sized directories allocate at create and refuse writes past the end
# (EPERM), and their buffers are reallocated by a resize only while nobody
# else holds them and they were never exported (else EBUSY).
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

S=$UMM_TMP/src
mkdir -p "$S"
MiB=1048576

test_sized_dir_allocates_at_create() {
	local d
	d=$(newdir sized)
	xset "$d" user.umm.size 1M
	touch "$d/a"
	expect_eq "$MiB" "$(stat -c %s "$d/a")" 'size right after touch'
	expect_eq "$MiB" "$(used_bytes "$d")" 'used_bytes right after touch'
	cmp -n "$MiB" "$d/a" /dev/zero || fail 'a new sized buffer is not all zeros'
	# Any way of creating: shell redirection, open(O_CREAT) from dd.
	: >"$d/b"
	expect_eq "$MiB" "$(stat -c %s "$d/b")" 'size after : >'
	xset "$d" user.umm.size 12K
	touch "$d/c"
	expect_eq 12288 "$(stat -c %s "$d/c")" 'size after changing user.umm.size'
	expect_eq "$MiB" "$(stat -c %s "$d/a")" 'existing buffers keep their size'
}

test_sized_buffer_takes_writes_within_its_size() {
	local d
	d=$(newdir sizedw)
	xset "$d" user.umm.size 64K
	make_data "$S/64k" 65536
	touch "$d/a"
	dd if="$S/64k" of="$d/a" bs=4096 conv=notrunc status=none
	cmp "$S/64k" "$d/a" || fail 'content written within the size differs'
	make_data "$S/patch" 100
	dd if="$S/patch" of="$d/a" bs=100 seek=10 count=1 conv=notrunc status=none
	cmp -n 100 "$S/patch" <(tail -c +1001 "$d/a") || fail 'patched bytes differ'
	expect_eq 65536 "$(stat -c %s "$d/a")" 'size'
}

test_sized_buffer_write_past_end_is_eperm() {
	local d
	d=$(newdir sizedpast)
	xset "$d" user.umm.size 64K
	touch "$d/a"
	expect_errno EPERM dd if=/dev/zero of="$d/a" bs=1 count=1 seek=65536 conv=notrunc status=none
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_errno EPERM dd if=/dev/zero of="$d/a" bs=4096 count=2 seek=15 conv=notrunc status=none
	expect_eq 65536 "$(stat -c %s "$d/a")" 'size after refused writes'
	expect_eq 65536 "$(used_bytes "$d")" 'used_bytes after refused writes'
}

# refusals NAME: how many lines of the daemon's log refuse a resize of NAME.
refusals() {
	grep -c "resize of $1 to .* refused" "$UMM_FS_LOG" || true
}

test_read_never_fixes_the_size() {
	local d pid
	d=$(newdir seal)
	make_data "$S/10k" 10000
	cp "$S/10k" "$d/a"
	cat "$d/a" >/dev/null
	# Read, and still a file as on tmpfs: appending works.
	head -c 100 /dev/zero >>"$d/a"
	expect_eq 10100 "$(stat -c %s "$d/a")" 'size after append to a read buffer'
	# A reader holding it takes nothing as finished either.
	hold "$d/a" '<'
	pid=$held_pid
	head -c 1 /dev/zero >>"$d/a"
	expect_eq 10101 "$(stat -c %s "$d/a")" 'size after append while a reader holds it'
	cmp -n 10000 "$S/10k" "$d/a" || fail 'content changed by the append'
	cmp -n 101 <(tail -c +10001 "$d/a") /dev/zero || fail 'appended bytes are not zeros'
	unhold "$pid"
	expect_eq 0 "$(xget "$d/a" user.umm.exports)" 'user.umm.exports of a buffer never exported'
}

test_growth_after_truncate_works() {
	local d
	d=$(newdir chosen)
	make_data "$S/patch" 100
	truncate -s 8K "$d/a"
	cat "$d/a" >/dev/null
	# A size chosen by truncate, then read: writes past the end still grow it.
	head -c 1 /dev/zero >>"$d/a"
	expect_eq 8193 "$(stat -c %s "$d/a")" 'size after append to a truncated buffer'
	truncate -s 16K "$d/a"
	expect_eq 16384 "$(stat -c %s "$d/a")" 'size after truncate -s 16K'
	dd if="$S/patch" of="$d/a" bs=100 seek=200 count=1 conv=notrunc status=none
	expect_eq 20100 "$(stat -c %s "$d/a")" 'size after a write past the end'
	cmp -n 100 "$S/patch" <(tail -c +20001 "$d/a") || fail 'bytes written past the end differ'
	cmp -n 20000 /dev/zero "$d/a" || fail 'the gap is not zeros'
	expect_eq 20480 "$(used_bytes "$d")" 'used_bytes: the size rounded up to pages'
}

test_resize_keeps_data() {
	local d
	d=$(newdir resize)
	make_data "$S/100k" 100000
	cp "$S/100k" "$d/a"
	cat "$d/a" >/dev/null
	truncate -s 200000 "$d/a"
	expect_eq 200000 "$(stat -c %s "$d/a")" 'size after growing'
	cmp -n 100000 "$S/100k" "$d/a" || fail 'data lost by growing'
	cmp -n 100000 <(tail -c +100001 "$d/a") /dev/zero || fail 'grown part is not zeros'
	cat "$d/a" >/dev/null
	truncate -s 5000 "$d/a"
	expect_eq 5000 "$(stat -c %s "$d/a")" 'size after shrinking'
	cmp -n 5000 "$S/100k" "$d/a" || fail 'data lost by shrinking'
	expect_eq 8192 "$(used_bytes "$d")" 'used_bytes after shrinking'
}

test_resize_of_a_sized_dirs_buffer_nobody_else_holds_reallocates_it() {
	local d
	need_cli
	d=$(newdir resize-sized)
	xset "$d" user.umm.size 64K
	make_data "$S/64k" 65536
	touch "$d/b"
	dd if="$S/64k" of="$d/b" bs=4096 conv=notrunc status=none
	# By path, with no fd open at all: reallocated, the bytes that fit kept.
	"$UMM_CLI" truncate "$d/b" 131072
	expect_eq 131072 "$(stat -c %s "$d/b")" 'size after truncate(2) to 128K'
	cmp -n 65536 "$S/64k" "$d/b" || fail 'data lost by growing'
	cmp -n 65536 <(tail -c +65537 "$d/b") /dev/zero || fail 'grown part is not zeros'
	expect_eq 131072 "$(used_bytes "$d")" 'used_bytes after growing'
	# Its size stays fixed against writes.
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/b'"
	# Through the caller's own fd, the only one open (truncate(1): open, ftruncate).
	expect_ok truncate -s 32K "$d/b"
	expect_eq 32768 "$(stat -c %s "$d/b")" 'size after truncate -s 32K'
	cmp -n 32768 "$S/64k" "$d/b" || fail 'data lost by shrinking'
	# And a new buffer of the dir, resized by truncate(1) right away.
	expect_ok truncate -s 128K "$d/c"
	expect_eq 131072 "$(stat -c %s "$d/c")" 'resized new buffer of a sized dir'
}

test_resize_while_others_hold_it_open_works() {
	local d rpid wpid
	d=$(newdir busy)
	make_data "$S/50k" 50000
	cp "$S/50k" "$d/a"
	cat "$d/a" >/dev/null
	hold "$d/a" '<'
	rpid=$held_pid
	hold "$d/a" '>>'
	wpid=$held_pid
	# As on tmpfs: whoever else holds it open, every resize works.
	truncate -s 100000 "$d/a"
	expect_eq 100000 "$(stat -c %s "$d/a")" 'size after growing while held'
	cmp -n 50000 "$S/50k" "$d/a" || fail 'data lost by growing while held'
	cmp -n 50000 <(tail -c +50001 "$d/a") /dev/zero || fail 'grown part is not zeros'
	truncate -s 10 "$d/a"
	expect_eq 10 "$(stat -c %s "$d/a")" 'size after shrinking while held'
	cmp -n 10 "$S/50k" "$d/a" || fail 'data lost by shrinking while held'
	fallocate -l 70000 "$d/a"
	expect_eq 70000 "$(stat -c %s "$d/a")" 'size after fallocate while held'
	"$UMM_CLI" open "$d/a" w,trunc
	expect_eq 0 "$(stat -c %s "$d/a")" 'size after O_TRUNC while held'
	echo again >"$d/a"
	expect_eq again "$(cat "$d/a")" 'content after > while held'
	expect_eq 4096 "$(used_bytes "$d")" 'used_bytes'
	unhold "$rpid"
	unhold "$wpid"
}

test_resize_of_a_sized_dirs_buffer_another_holds_is_ebusy() {
	local d pid
	need_cli
	d=$(newdir busy-sized)
	xset "$d" user.umm.size 64K
	make_data "$S/64k" 65536
	touch "$d/a"
	dd if="$S/64k" of="$d/a" bs=4096 conv=notrunc status=none
	hold "$d/a" '<'
	pid=$held_pid
	expect_errno EBUSY "$UMM_CLI" truncate "$d/a" 100000
	expect_errno EBUSY "$UMM_CLI" truncate "$d/a" 10
	expect_errno EBUSY "$UMM_CLI" open "$d/a" w,trunc
	expect_eq 65536 "$(stat -c %s "$d/a")" 'size after refused resizes'
	cmp "$S/64k" "$d/a" || fail 'content after refused resizes'
	unhold "$pid"
	# Once the holder is gone (its release is asynchronous), resizing works again.
	wait_until 20 "'$UMM_CLI' truncate '$d/a' 60000 2>/dev/null" ||
		fail 'resize still refused after the holder left'
	expect_eq 60000 "$(stat -c %s "$d/a")" 'size after the holder left'
	cmp -n 60000 "$S/64k" "$d/a" || fail 'content after the holder left'
}

test_resize_of_exported_buffer_is_ebusy_for_good() {
	local d out n
	need_cli
	d=$(newdir exported)
	make_data "$S/40k" 40960
	make_data "$S/patch" 100
	cp "$S/40k" "$d/a"
	out=$("$UMM_CLI" export "$d/a" r)
	expect_eq '40960 r' "$out" 'umm_open of the buffer: size and access'
	expect_eq 1 "$(xget "$d/a" user.umm.exports)" 'user.umm.exports after one export'
	# The exported fd is closed again, but the buffer was exported: every
	# change of size is refused, each with a line in the daemon's log.
	n=$(refusals a)
	expect_errno EBUSY truncate -s 81920 "$d/a"
	expect_eq $((n + 1)) "$(refusals a)" 'log lines after a refused truncate'
	expect_errno EBUSY truncate -s 0 "$d/a"
	expect_errno EBUSY "$UMM_CLI" truncate "$d/a" 4096
	expect_errno EBUSY fallocate -l 81920 "$d/a"
	expect_eq $((n + 4)) "$(refusals a)" 'log lines after refused truncates and fallocate'
	expect_errno EBUSY "$UMM_CLI" open "$d/a" w,trunc
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_errno EPERM dd if=/dev/zero of="$d/a" bs=4096 count=1 seek=10 conv=notrunc status=none
	expect_eq 40960 "$(stat -c %s "$d/a")" 'size'
	cmp "$S/40k" "$d/a" || fail 'content'
	# A "resize" to the same size changes nothing, and writes inside work.
	truncate -s 40960 "$d/a"
	fallocate -l 40960 "$d/a"
	dd if="$S/patch" of="$d/a" bs=100 seek=5 count=1 conv=notrunc status=none
	cmp -n 100 "$S/patch" <(tail -c +501 "$d/a") || fail 'a write inside the exported buffer'
	expect_eq 40960 "$(stat -c %s "$d/a")" 'size after writes inside'
	# Cache mode is fixed by the first export (memfd has only "cached", so
	# before an export "uncached" would be EOPNOTSUPP; after it, EPERM).
	expect_errno 'EPERM|EBUSY' setfattr -n user.umm.cache -v uncached "$d/a"
	expect_eq cached "$(xget "$d/a" user.umm.cache)" 'cache after refused change'
	# A sized dir's buffer, exported, can no longer be reallocated either.
	mkdir "$d/s"
	xset "$d/s" user.umm.size 8K
	touch "$d/s/b"
	expect_eq '8192 rw' "$("$UMM_CLI" export "$d/s/b" rw)" 'export of a sized buffer'
	expect_errno EBUSY "$UMM_CLI" truncate "$d/s/b" 16384
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/s/b'"
	expect_eq 8192 "$(stat -c %s "$d/s/b")" 'size of the exported sized buffer'
}

test_export_fixes_the_size_of_a_growable_buffer() {
	local d out
	need_cli
	d=$(newdir exportseal)
	head -c 12345 /dev/urandom >"$d/a"
	head -c 100 /dev/zero >>"$d/a"
	# Growable until now; the export fixes its size where it is.
	out=$("$UMM_CLI" export "$d/a" rw)
	expect_eq '12445 rw' "$out" 'umm_open rw of a growable buffer'
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_errno EBUSY truncate -s 20000 "$d/a"
	expect_eq 12445 "$(stat -c %s "$d/a")" 'size'
}

test_export_while_others_hold_it_open_works() {
	local d out rpid wpid
	need_cli
	d=$(newdir exportheld)
	make_data "$S/30k" 30000
	cp "$S/30k" "$d/a"
	hold "$d/a" '>>'
	wpid=$held_pid
	hold "$d/a" '<'
	rpid=$held_pid
	# A writer and a reader hold it open: the memfd heap seals it in place.
	out=$("$UMM_CLI" export "$d/a" rw)
	expect_eq '30000 rw' "$out" 'umm_open rw while a writer and a reader hold it'
	expect_eq 1 "$(xget "$d/a" user.umm.exports)" 'user.umm.exports'
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_errno EBUSY truncate -s 40000 "$d/a"
	cmp "$S/30k" "$d/a" || fail 'content after the export'
	unhold "$rpid"
	unhold "$wpid"
}

test_export_of_an_empty_buffer_is_einval() {
	local d
	need_cli
	d=$(newdir exportempty)
	touch "$d/a"
	expect_errno EINVAL "$UMM_CLI" export "$d/a" rw
	expect_eq 0 "$(xget "$d/a" user.umm.exports)" 'user.umm.exports after a refused export'
	# Nothing was fixed: it still grows.
	echo more >>"$d/a"
	expect_eq more "$(cat "$d/a")" 'content written after the refused export'
}

test_open_trunc_resizes_to_zero() {
	local d
	d=$(newdir otrunc)
	head -c 30000 /dev/urandom >"$d/a"
	cat "$d/a" >/dev/null
	echo again >"$d/a"
	expect_eq again "$(cat "$d/a")" 'content after > of a read buffer'
	expect_eq 6 "$(stat -c %s "$d/a")" 'size'
	expect_eq 4096 "$(used_bytes "$d")" 'used_bytes'
}

test_append_works_while_a_writer_holds_it() {
	local d pid
	d=$(newdir writer)
	head -c 5000 /dev/urandom >"$d/a"
	hold "$d/a" '>>'
	pid=$held_pid
	cat "$d/a" >/dev/null
	head -c 100 /dev/zero >>"$d/a"
	expect_eq 5100 "$(stat -c %s "$d/a")" 'size after append with a writer holding it'
	unhold "$pid"
}

test_cp_over_a_held_buffer_refills_it() {
	local d pid
	d=$(newdir cpover)
	make_data "$S/small" 3000
	make_data "$S/big" 9000
	cp "$S/small" "$d/a"
	cat "$d/a" >/dev/null
	hold "$d/a" '<'
	pid=$held_pid
	# cp opens with O_TRUNC: never exported, so it resizes and fills anew.
	cp "$S/big" "$d/a"
	cmp "$S/big" "$d/a" || fail 'cp over a read and held buffer'
	unhold "$pid"
}

check test_sized_dir_allocates_at_create
check test_sized_buffer_takes_writes_within_its_size
check test_sized_buffer_write_past_end_is_eperm
check test_read_never_fixes_the_size
check test_growth_after_truncate_works
check test_resize_keeps_data
check test_resize_of_a_sized_dirs_buffer_nobody_else_holds_reallocates_it
check test_resize_while_others_hold_it_open_works
check test_resize_of_a_sized_dirs_buffer_another_holds_is_ebusy
check test_resize_of_exported_buffer_is_ebusy_for_good
check test_export_fixes_the_size_of_a_growable_buffer
check test_export_while_others_hold_it_open_works
check test_export_of_an_empty_buffer_is_einval
check test_open_trunc_resizes_to_zero
check test_append_works_while_a_writer_holds_it
check test_cp_over_a_held_buffer_refills_it
finish
