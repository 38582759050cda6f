#!/bin/bash
# test_sized.sh - the buffer life cycle: sized directories allocate at
# create, sized buffers refuse writes past their end (EPERM), and resizing is
# allowed only while nobody else holds the buffer and it was never exported
# (else EBUSY) (SPEC 5, life cycle in the design note).
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

test_read_seals_a_filled_buffer() {
	local d pid
	d=$(newdir seal)
	make_data "$S/10k" 10000
	cp "$S/10k" "$d/a"
	# Still being filled: appending works.
	head -c 100 /dev/zero >>"$d/a"
	expect_eq 10100 "$(stat -c %s "$d/a")" 'size after append while filling'
	# A reader takes it as finished: while it holds it, appending is EPERM.
	hold "$d/a" '<'
	pid=$held_pid
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_eq 10100 "$(stat -c %s "$d/a")" 'size after refused append'
	cmp -n 10000 "$S/10k" "$d/a" || fail 'content changed'
	unhold "$pid"
	# Its size came from writes: once nobody holds it, its writer may extend it.
	head -c 1 /dev/zero >>"$d/a"
	expect_eq 10101 "$(stat -c %s "$d/a")" 'size after append with no holder'
	cmp -n 10000 "$S/10k" "$d/a" || fail 'content changed by the append'
}

test_chosen_size_never_grows_by_writes() {
	local d
	d=$(newdir chosen)
	truncate -s 8K "$d/a"
	cat "$d/a" >/dev/null
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_eq 8192 "$(stat -c %s "$d/a")" 'size after refused append'
	# ...but truncate may still resize it while nobody holds it.
	truncate -s 16K "$d/a"
	expect_eq 16384 "$(stat -c %s "$d/a")" 'size after truncate -s 16K'
}

test_resize_of_unshared_sized_buffer_works_and_keeps_data() {
	local d
	d=$(newdir resize)
	make_data "$S/100k" 100000
	cp "$S/100k" "$d/a"
	cat "$d/a" >/dev/null
	truncate -s 200000 "$d/a"
	expect_eq 200000 "$(stat -c %s "$d/a")" 'size after growing a sized buffer'
	cmp -n 100000 "$S/100k" "$d/a" || fail 'data lost by growing'
	cmp -n 100000 <(tail -c +100001 "$d/a") /dev/zero || fail 'grown part is not zeros'
	cat "$d/a" >/dev/null
	truncate -s 5000 "$d/a"
	expect_eq 5000 "$(stat -c %s "$d/a")" 'size after shrinking'
	cmp -n 5000 "$S/100k" "$d/a" || fail 'data lost by shrinking'
	expect_eq 8192 "$(used_bytes "$d")" 'used_bytes after shrinking'
	# Sized dirs: a created buffer can also be resized while unshared.
	mkdir "$d/s"
	xset "$d/s" user.umm.size 64K
	touch "$d/s/b"
	truncate -s 128K "$d/s/b"
	expect_eq 131072 "$(stat -c %s "$d/s/b")" 'resized buffer of a sized dir'
}

test_resize_while_another_holds_it_open_is_ebusy() {
	local d pid
	d=$(newdir busy)
	make_data "$S/50k" 50000
	cp "$S/50k" "$d/a"
	cat "$d/a" >/dev/null
	hold "$d/a" '<'
	pid=$held_pid
	expect_errno EBUSY truncate -s 100000 "$d/a"
	expect_errno EBUSY truncate -s 10 "$d/a"
	expect_errno EBUSY "$UMM_CLI" open "$d/a" w,trunc
	expect_eq 50000 "$(stat -c %s "$d/a")" 'size after refused resize'
	cmp "$S/50k" "$d/a" || fail 'content after refused resize'
	unhold "$pid"
	# Once the holder is gone, resizing works again.
	wait_until 20 "truncate -s 60000 '$d/a' 2>/dev/null" || fail 'resize still refused after the holder left'
	expect_eq 60000 "$(stat -c %s "$d/a")" 'size after the holder left'
}

test_resize_of_exported_buffer_is_ebusy_for_good() {
	local d out
	need_cli
	d=$(newdir exported)
	make_data "$S/40k" 40960
	cp "$S/40k" "$d/a"
	out=$("$UMM_CLI" export "$d/a" r)
	expect_eq '40960 r' "$out" 'umm_open of the buffer: size and access'
	expect_eq 1 "$(xget "$d/a" user.umm.exports)" 'user.umm.exports after one export'
	# The exported fd is closed again, but the buffer was exported.
	expect_errno EBUSY truncate -s 81920 "$d/a"
	expect_errno EBUSY truncate -s 0 "$d/a"
	expect_errno EBUSY "$UMM_CLI" open "$d/a" w,trunc
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_eq 40960 "$(stat -c %s "$d/a")" 'size'
	cmp "$S/40k" "$d/a" || fail 'content'
	# Cache mode is fixed by the first export (memfd has only "cached", so
	# before an export "uncached" would be EOPNOTSUPP; after it, EPERM).
	expect_errno 'EPERM|EBUSY' setfattr -n user.umm.cache -v uncached "$d/a"
	expect_eq cached "$(xget "$d/a" user.umm.cache)" 'cache after refused change' 
}

test_export_seals_a_filling_buffer() {
	local d out
	need_cli
	d=$(newdir exportseal)
	head -c 12345 /dev/urandom >"$d/a"
	# Never read, so still being filled: the export seals it.
	out=$("$UMM_CLI" export "$d/a" rw)
	expect_eq '12345 rw' "$out" 'umm_open rw of a filling buffer'
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/a'"
	expect_eq 12345 "$(stat -c %s "$d/a")" 'size'
}

test_open_trunc_resizes_to_zero_when_unshared() {
	local d
	d=$(newdir otrunc)
	head -c 30000 /dev/urandom >"$d/a"
	cat "$d/a" >/dev/null
	echo again >"$d/a"
	expect_eq again "$(cat "$d/a")" 'content after > of a sized unshared buffer'
	expect_eq 6 "$(stat -c %s "$d/a")" 'size'
	expect_eq 4096 "$(used_bytes "$d")" 'used_bytes'
}

test_writer_holding_it_keeps_it_filling() {
	local d pid
	d=$(newdir writer)
	head -c 5000 /dev/urandom >"$d/a"
	hold "$d/a" '>>'
	pid=$held_pid
	# A reader while a writer holds it does not seal it.
	cat "$d/a" >/dev/null
	head -c 100 /dev/zero >>"$d/a"
	expect_eq 5100 "$(stat -c %s "$d/a")" 'size after append with a writer holding it'
	unhold "$pid"
}

test_cp_over_an_unshared_sized_buffer_refills_it() {
	local d
	d=$(newdir cpover)
	make_data "$S/small" 3000
	make_data "$S/big" 9000
	cp "$S/small" "$d/a"
	cat "$d/a" >/dev/null
	# cp opens with O_TRUNC: unshared, so it resizes and fills anew.
	cp "$S/big" "$d/a"
	cmp "$S/big" "$d/a" || fail 'cp over a sized unshared buffer'
}

check test_sized_dir_allocates_at_create
check test_sized_buffer_takes_writes_within_its_size
check test_sized_buffer_write_past_end_is_eperm
check test_read_seals_a_filled_buffer
check test_chosen_size_never_grows_by_writes
check test_resize_of_unshared_sized_buffer_works_and_keeps_data
check test_resize_while_another_holds_it_open_is_ebusy
check test_resize_of_exported_buffer_is_ebusy_for_good
check test_export_seals_a_filling_buffer
check test_open_trunc_resizes_to_zero_when_unshared
check test_writer_holding_it_keeps_it_filling
check test_cp_over_an_unshared_sized_buffer_refills_it
finish
