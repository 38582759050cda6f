#!/bin/bash
# test_quota.sh - budgets: the mount's size=, user_size=, nr_buffers= and the
# directories' user.umm.max_bytes. Exceeding any is ENOSPC and changes
# nothing (SPEC 5, accounting in the design note).
# umm-fs-options: size=32M,user_size=12M,nr_buffers=20
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
S=$UMM_TMP/src
mkdir -p "$S"
MiB=1048576

# Each check leaves the mount as empty as it found it.
clean_dir() {
	rm -rf "$1"
	wait_used 0
}

test_dir_quota_refuses_truncate_and_changes_nothing() {
	local d
	d=$(newdir q1)
	on_exit clean_dir "$d"
	xset "$d" user.umm.max_bytes 1M
	make_data "$S/600k" $((600 * 1024))
	cp "$S/600k" "$d/a"
	expect_eq 614400 "$(used_bytes "$d")" 'used_bytes with a 600 KiB buffer'
	expect_errno ENOSPC truncate -s 600K "$d/b"
	expect_eq 0 "$(stat -c %s "$d/b")" 'size of the buffer whose truncate failed'
	expect_errno ENOSPC fallocate -l 600K "$d/b"
	expect_eq 0 "$(stat -c %s "$d/b")" 'size of the buffer whose fallocate failed'
	expect_eq 614400 "$(used_bytes "$d")" 'used_bytes after refused truncate/fallocate'
	expect_eq 614400 "$(used_bytes "$M")" 'root used_bytes after refused truncate'
	cmp "$S/600k" "$d/a" || fail 'existing buffer changed'
	# Exactly up to the quota is fine, one byte more is not.
	truncate -s $((MiB - 614400)) "$d/b"
	expect_eq "$MiB" "$(used_bytes "$d")" 'used_bytes at the quota'
	expect_errno ENOSPC truncate -s $((MiB - 614400 + 1)) "$d/b"
	expect_eq $((MiB - 614400)) "$(stat -c %s "$d/b")" 'size after refused growth'
}

test_keep_size_preallocation_is_charged_and_dropped() {
	local d
	d=$(newdir q9)
	on_exit clean_dir "$d"
	xset "$d" user.umm.max_bytes 1M
	: >"$d/a"
	# past the end, the size stays and the pages (and their charge) come
	fallocate -n -l 512K "$d/a"
	expect_eq 0 "$(stat -c %s "$d/a")" 'size after fallocate -n'
	expect_eq 1024 "$(stat -c %b "$d/a")" 'st_blocks after fallocate -n of 512 KiB'
	expect_eq $((512 * 1024)) "$(used_bytes "$d")" 'used_bytes after fallocate -n'
	expect_errno ENOSPC fallocate -n -o 512K -l 513K "$d/a"
	expect_eq $((512 * 1024)) "$(used_bytes "$d")" 'used_bytes after a refused fallocate -n'
	# a hole punched in them gives pages back; the charge follows the size
	truncate -s 256K "$d/a"
	fallocate -p -o 0 -l 128K "$d/a"
	expect_eq 768 "$(stat -c %b "$d/a")" 'st_blocks after punching 128 KiB'
	expect_eq 262144 "$(stat -c %s "$d/a")" 'size after punching'
	# truncation drops what lay past the end, as on tmpfs
	truncate -s 256K "$d/a"
	expect_eq 256 "$(stat -c %b "$d/a")" 'st_blocks after truncate to the same size'
	expect_eq 262144 "$(used_bytes "$d")" 'used_bytes after the truncate'
}

test_dir_quota_refuses_writes_without_overrun() {
	local d u
	d=$(newdir q2)
	on_exit clean_dir "$d"
	xset "$d" user.umm.max_bytes 1M
	make_data "$S/600k" $((600 * 1024))
	cp "$S/600k" "$d/a"
	expect_errno ENOSPC cp "$S/600k" "$d/c"
	u=$(used_bytes "$d")
	[ "$u" -le "$MiB" ] || fail "used_bytes $u above max_bytes after a refused cp"
	cmp "$S/600k" "$d/a" || fail 'existing buffer changed by a refused cp'
	rm -f "$d/c"
	wait_until 20 "[ \"\$(used_bytes '$d')\" = 614400 ]" || fail "used_bytes after rm: $(used_bytes "$d")"
	expect_errno ENOSPC dd if=/dev/zero of="$d/e" bs=500K count=1 status=none
	u=$(used_bytes "$d")
	[ "$u" -le "$MiB" ] || fail "used_bytes $u above max_bytes after a refused dd"
	expect_errno ENOSPC sh -c "head -c 500000 /dev/zero >>'$d/e'"
	cmp "$S/600k" "$d/a" || fail 'existing buffer changed by a refused dd'
}

test_quota_counts_whole_pages() {
	local d
	d=$(newdir q3)
	on_exit clean_dir "$d"
	xset "$d" user.umm.max_bytes 8K
	head -c 4097 /dev/urandom >"$d/a"
	expect_eq 8192 "$(used_bytes "$d")" '4097 bytes are charged 2 pages'
	touch "$d/empty"
	expect_errno ENOSPC sh -c "head -c 1 /dev/zero >'$d/one'"
	expect_eq 0 "$(stat -c %s "$d/one")" 'size of the refused one-byte buffer'
	expect_eq 8192 "$(used_bytes "$d")" 'used_bytes after refused write'
}

test_quota_applies_from_every_ancestor() {
	local d
	d=$(newdir q4)
	on_exit clean_dir "$d"
	xset "$d" user.umm.max_bytes 1M
	mkdir -p "$d/q/r"
	xset "$d/q/r" user.umm.max_bytes 64M
	expect_eq 1M "$(effective_key "$d/q/r" max_bytes)" 'effective max_bytes of the grandchild'
	expect_errno ENOSPC truncate -s 2M "$d/q/r/f"
	truncate -s 1M "$d/q/r/f"
	expect_eq "$MiB" "$(used_bytes "$d")" 'used_bytes at the top'
	expect_eq "$MiB" "$(used_bytes "$d/q")" 'used_bytes in the middle'
	expect_errno ENOSPC truncate -s 4K "$d/q/g"
}

test_sized_dir_quota_refuses_the_create() {
	local d
	d=$(newdir q5)
	on_exit clean_dir "$d"
	xset "$d" user.umm.size 1M
	xset "$d" user.umm.max_bytes 2M
	touch "$d/a" "$d/b"
	expect_eq "$MiB $MiB" "$(stat -c %s "$d/a" "$d/b" | tr '\n' ' ' | sed 's/ $//')" 'sizes'
	expect_errno ENOSPC touch "$d/c"
	[ ! -e "$d/c" ] || fail 'a refused create left a name'
	expect_eq $((2 * MiB)) "$(used_bytes "$d")" 'used_bytes'
}

test_user_size_budget_per_uid() {
	local d
	d=$(newdir q6)
	on_exit clean_dir "$d"
	chmod 1777 "$d"
	expect_errno ENOSPC truncate -s 13M "$d/root"
	expect_eq 0 "$(stat -c %s "$d/root")" 'size after refused truncate'
	run_as 65534 truncate -s 10M "$d/nobody"
	expect_errno ENOSPC run_as 65534 truncate -s 3M "$d/nobody2"
	# Another uid is not charged for nobody's buffers.
	truncate -s 3M "$d/root"
	expect_eq $((13 * MiB)) "$(used_bytes "$d")" 'used_bytes'
}

test_mount_size_budget_is_shared_by_all() {
	local d size used avail
	d=$(newdir q7)
	on_exit clean_dir "$d"
	chmod 1777 "$d"
	truncate -s 10M "$d/u0"
	run_as 65534 truncate -s 10M "$d/u65534"
	run_as 1000 truncate -s 10M "$d/u1000"
	run_as 1001 truncate -s 2M "$d/u1001"
	read -r size used avail < <(df -B1 --output=size,used,avail "$M" | tail -n 1)
	expect_eq "$((32 * MiB)) $((32 * MiB)) 0" "$size $used $avail" 'df at the budget'
	expect_errno ENOSPC run_as 1001 truncate -s 2M "$d/u1001b"
	expect_errno ENOSPC run_as 1001 sh -c "head -c 1 /dev/zero >>'$d/u1001'"
	expect_errno ENOSPC truncate -s 1 "$d/u0b"
	expect_eq $((32 * MiB)) "$(used_bytes "$M")" 'root used_bytes at the budget'
}

test_nr_buffers_limits_buffers_not_dirs() {
	local d n i
	d=$(newdir q8)
	on_exit clean_dir "$d"
	n=$(find "$M" -type f | wc -l)
	# df -i: free inodes = buffers that may still be made.
	expect_eq $((20 - n)) "$(stat -f -c %d "$M")" 'statfs f_ffree = nr_buffers - buffers'
	note "statfs f_files: $(stat -f -c %c "$M") (nr_buffers=20)"
	for ((i = n; i < 20; i++)); do
		touch "$d/b$i"
	done
	expect_eq 0 "$(stat -f -c %d "$M")" 'statfs f_ffree at the limit'
	expect_errno ENOSPC touch "$d/one-too-many"
	[ ! -e "$d/one-too-many" ] || fail 'a refused create left a name'
	mkdir "$d/dirs-are-not-buffers"
	rm "$d/b$n"
	wait_until 20 "touch '$d/again' 2>/dev/null" || fail 'no buffer could be made after an rm'
}

# Racing creators never take a directory past its quota together.
test_parallel_growth_never_overruns_the_quota() {
	local d i pids=() ok=0 u
	d=$(newdir q9)
	on_exit clean_dir "$d"
	xset "$d" user.umm.max_bytes 1M
	for ((i = 0; i < 10; i++)); do
		truncate -s 300K "$d/t$i" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" && ok=$((ok + 1)) || true
	done
	u=$(used_bytes "$d")
	expect_eq 3 "$ok" 'truncates of 300K that fit in 1M'
	expect_eq $((3 * 300 * 1024)) "$u" 'used_bytes after racing truncates'
	pids=()
	for ((i = 0; i < 6; i++)); do
		head -c 100K /dev/zero >"$d/w$i" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
	u=$(used_bytes "$d")
	[ "$u" -le "$MiB" ] || fail "used_bytes $u above the 1M quota after racing writers"
}

check test_dir_quota_refuses_truncate_and_changes_nothing
check test_keep_size_preallocation_is_charged_and_dropped
check test_dir_quota_refuses_writes_without_overrun
check test_quota_counts_whole_pages
check test_quota_applies_from_every_ancestor
check test_sized_dir_quota_refuses_the_create
check test_user_size_budget_per_uid
check test_mount_size_budget_is_shared_by_all
check test_parallel_growth_never_overruns_the_quota
check test_nr_buffers_limits_buffers_not_dirs
finish
