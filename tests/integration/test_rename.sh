#!/bin/bash
# test_rename.sh - rename(2) and mv: within a directory always, across
# directories only where the buffer meets the target's effective constraints
# and quota, else EXDEV, so that mv falls back to a copy (SPEC 5).
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
S=$UMM_TMP/src
mkdir -p "$S"
MiB=1048576

test_mv_within_a_dir_keeps_the_buffer() {
	local d ino
	d=$(newdir mvin)
	make_data "$S/a" 70000
	cp "$S/a" "$d/a"
	ino=$(stat -c %i "$d/a")
	mv "$d/a" "$d/b"
	[ ! -e "$d/a" ] || fail 'old name still there'
	expect_eq "$ino" "$(stat -c %i "$d/b")" 'inode after mv within a dir'
	cmp "$S/a" "$d/b" || fail 'content after mv'
	expect_eq b "$(ls "$d")" 'names after mv'
	expect_eq 73728 "$(used_bytes "$d")" 'used_bytes after mv'
}

test_mv_across_compatible_dirs_is_a_real_rename() {
	local d ino
	need_cli
	d=$(newdir mvacross)
	mkdir "$d/src" "$d/dst" "$d/dst4k"
	xset "$d/dst4k" user.umm.align 4K
	make_data "$S/b" 10000
	cp "$S/b" "$d/src/a"
	cat "$d/src/a" >/dev/null
	ino=$(stat -c %i "$d/src/a")
	"$UMM_CLI" rename "$d/src/a" "$d/dst/a"
	expect_eq "$ino" "$(stat -c %i "$d/dst/a")" 'inode after rename across dirs'
	expect_eq 0 "$(used_bytes "$d/src")" 'source dir used_bytes'
	expect_eq 12288 "$(used_bytes "$d/dst")" 'target dir used_bytes'
	mv "$d/dst/a" "$d/dst4k/a"
	expect_eq "$ino" "$(stat -c %i "$d/dst4k/a")" 'inode after mv into a 4K-aligned dir'
	cmp "$S/b" "$d/dst4k/a" || fail 'content after the moves'
}

test_mv_replaces_an_existing_target() {
	local d before
	d=$(newdir mvreplace)
	before=$(used_bytes "$M")
	make_data "$S/new" 5000
	head -c $((3 * MiB)) /dev/zero >"$d/old"
	cp "$S/new" "$d/new"
	mv "$d/new" "$d/old"
	cmp "$S/new" "$d/old" || fail 'content of the replaced target'
	expect_eq old "$(ls "$d")" 'names'
	wait_used $((before + 8192))
}

test_rename_into_dir_over_quota_is_exdev_and_mv_fails_cleanly() {
	local d ino out
	need_cli
	d=$(newdir mvquota)
	mkdir "$d/src" "$d/small"
	xset "$d/small" user.umm.max_bytes 64K
	make_data "$S/1m" "$MiB"
	cp "$S/1m" "$d/src/a"
	ino=$(stat -c %i "$d/src/a")
	expect_errno EXDEV "$UMM_CLI" rename "$d/src/a" "$d/small/a"
	set +e
	out=$(mv "$d/src/a" "$d/small/a" 2>&1)
	local rc=$?
	set -e
	[ "$rc" != 0 ] || fail 'mv of a 1 MiB buffer into a 64 KiB quota succeeded'
	grep -qF "$(errmsg ENOSPC)" <<<"$out" || fail "mv failed, but not with ENOSPC: $out"
	expect_eq "$ino" "$(stat -c %i "$d/src/a")" 'source inode after the failed mv'
	cmp "$S/1m" "$d/src/a" || fail 'source changed by the failed mv'
	[ "$(used_bytes "$d/small")" -le 65536 ] || fail 'target dir over its quota'
}

test_rename_into_2m_aligned_dir_is_exdev() {
	local d ino out rc
	need_cli
	d=$(newdir mvalign)
	mkdir "$d/src" "$d/huge"
	xset "$d/huge" user.umm.align 2M
	make_data "$S/c" 20000
	cp "$S/c" "$d/src/a"
	cat "$d/src/a" >/dev/null
	ino=$(stat -c %i "$d/src/a")
	expect_errno EXDEV "$UMM_CLI" rename "$d/src/a" "$d/huge/a"
	expect_eq "$ino" "$(stat -c %i "$d/src/a")" 'source after EXDEV'
	set +e
	out=$(mv "$d/src/a" "$d/huge/a" 2>&1)
	rc=$?
	set -e
	if have_hugepages; then
		[ "$rc" = 0 ] || fail "mv into a 2M-aligned dir failed although huge pages are free: $out"
		cmp "$S/c" "$d/huge/a" || fail 'copied content differs'
		[ "$(stat -c %i "$d/huge/a")" != "$ino" ] || fail 'mv across EXDEV kept the inode'
		[ ! -e "$d/src/a" ] || fail 'source left after a successful mv'
	else
		note 'no free huge pages: no 2M-aligned buffer can be made, so mv must fail'
		[ "$rc" != 0 ] || fail 'mv into a 2M-aligned dir succeeded without huge pages'
		grep -qE "$(errmsg EOPNOTSUPP)|$(errmsg ENOSPC)" <<<"$out" ||
			fail "mv failed, but not with EOPNOTSUPP or ENOSPC: $out"
		expect_eq "$ino" "$(stat -c %i "$d/src/a")" 'source inode after the failed mv'
		cmp "$S/c" "$d/src/a" || fail 'source changed by the failed mv'
		[ ! -e "$d/huge/a" ] || fail 'a failed mv left a buffer in the target'
	fi
}

test_rename_into_uncached_dir_is_exdev() {
	local d heaps
	need_cli
	d=$(newdir mvuncached)
	mkdir "$d/src" "$d/wc"
	xset "$d/wc" user.umm.cache writecombine
	printf 'abc' >"$d/src/a"
	expect_errno EXDEV "$UMM_CLI" rename "$d/src/a" "$d/wc/a"
	heaps=$(xget "$M" user.umm.heaps)
	if grep -q 'cache=[a-z,]*writecombine' <<<"$heaps"; then
		# a heap offers it (drm:CARD): mv copies into a buffer there
		mv "$d/src/a" "$d/wc/a"
		expect_eq abc "$(cat "$d/wc/a")" 'the copy in the writecombine dir'
		expect_eq writecombine "$(xget "$d/wc/a" user.umm.cache)" 'its cache mode'
	else
		# seen once in the VM: this branch taken with drm:card0 there
		echo "    no heap lists writecombine; user.umm.heaps: $heaps"
		expect_errno 'EOPNOTSUPP' mv "$d/src/a" "$d/wc/a"
		expect_eq abc "$(cat "$d/src/a")" 'source after the failed mv'
	fi
}

test_dir_rename_checks_every_buffer() {
	local d ino
	need_cli
	d=$(newdir mvdir)
	mkdir -p "$d/a/sub/deep" "$d/ok" "$d/huge" "$d/tiny"
	xset "$d/huge" user.umm.align 2M
	xset "$d/tiny" user.umm.max_bytes 8K
	head -c 5000 /dev/urandom >"$d/a/sub/x"
	head -c 5000 /dev/urandom >"$d/a/sub/deep/y"
	ino=$(stat -c %i "$d/a/sub")
	expect_errno EXDEV "$UMM_CLI" rename "$d/a/sub" "$d/huge/sub"
	expect_errno EXDEV "$UMM_CLI" rename "$d/a/sub" "$d/tiny/sub"
	expect_eq "$ino" "$(stat -c %i "$d/a/sub")" 'dir after EXDEV'
	"$UMM_CLI" rename "$d/a/sub" "$d/ok/sub"
	expect_eq "$ino" "$(stat -c %i "$d/ok/sub")" 'dir inode after a compatible rename'
	expect_eq 16384 "$(used_bytes "$d/ok")" 'target used_bytes'
	expect_eq 0 "$(used_bytes "$d/a")" 'source used_bytes'
	# An empty dir meets every constraint.
	mkdir "$d/a/empty"
	"$UMM_CLI" rename "$d/a/empty" "$d/huge/empty"
	expect_eq 2M "$(effective_key "$d/huge/empty" align)" 'moved dir takes the new constraints'
}

test_rename_noreplace_and_exchange() {
	local d
	need_cli
	d=$(newdir mvflags)
	printf one >"$d/a"
	printf two >"$d/b"
	expect_errno EEXIST "$UMM_CLI" rename "$d/a" "$d/b" noreplace
	expect_errno EINVAL "$UMM_CLI" rename "$d/a" "$d/b" exchange
	expect_eq 'one two' "$(cat "$d/a") $(cat "$d/b")" 'contents after refused renames'
	"$UMM_CLI" rename "$d/a" "$d/c" noreplace
	expect_eq one "$(cat "$d/c")" 'noreplace onto a free name'
}

test_rename_dirs_over_dirs_and_files() {
	local d
	need_cli
	d=$(newdir mvtypes)
	mkdir "$d/d1" "$d/d2" "$d/full"
	printf x >"$d/full/f"
	printf y >"$d/f"
	expect_errno ENOTEMPTY "$UMM_CLI" rename "$d/d1" "$d/full"
	expect_errno EISDIR "$UMM_CLI" rename "$d/f" "$d/d1"
	expect_errno ENOTDIR "$UMM_CLI" rename "$d/d1" "$d/f"
	expect_errno EINVAL "$UMM_CLI" rename "$d/d1" "$d/d1/inside"
	"$UMM_CLI" rename "$d/d1" "$d/d2"
	[ ! -e "$d/d1" ] || fail 'd1 still there after replacing the empty d2'
	expect_eq x "$(cat "$d/full/f")" 'untouched buffer'
}

test_rename_of_an_open_buffer() {
	local d
	d=$(newdir mvopen)
	printf 'held' >"$d/a"
	cat "$d/a" >/dev/null
	hold "$d/a" '<'
	mv "$d/a" "$d/b"
	expect_eq held "$(cat "$d/b")" 'content by the new name while held'
	mkdir "$d/other"
	mv "$d/b" "$d/other/c"
	expect_eq held "$(cat "$d/other/c")" 'content after a move across dirs while held'
	unhold "$held_pid"
}

check test_mv_within_a_dir_keeps_the_buffer
check test_mv_across_compatible_dirs_is_a_real_rename
check test_mv_replaces_an_existing_target
check test_rename_into_dir_over_quota_is_exdev_and_mv_fails_cleanly
check test_rename_into_2m_aligned_dir_is_exdev
check test_rename_into_uncached_dir_is_exdev
check test_dir_rename_checks_every_buffer
check test_rename_noreplace_and_exchange
check test_rename_dirs_over_dirs_and_files
check test_rename_of_an_open_buffer
finish
