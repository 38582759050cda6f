#!/bin/bash
# test_huge.sh - the memfd heap's huge-page path (SPEC 3; umm.7 HEAPS): with
# 2 MiB huge pages reserved, contiguity up to 2M and 2M alignment are met by
# MFD_HUGETLB memfds, rounded up to whole huge pages and charged so: a sized
# directory's buffer at create, a growable buffer at its first export (a
# copy, refused with EBUSY while another fd holds it open); the pages return
# when the buffers go. (Without reserved huge pages, the other tests check
# that such requests fail cleanly.)
# umm-hugepages: 4
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
S=$UMM_TMP/src
mkdir -p "$S"
MiB=1048576

huge_free() {
	awk '/^HugePages_Free:/ {print $2}' /proc/meminfo
}

test_root_lists_memfd_with_contiguity_up_to_2m() {
	expect_eq 'memfd dmabuf=no contiguous=2M cache=cached max_size=none align=2M' \
		"$(xget "$M" user.umm.heaps)" 'user.umm.heaps'
}

test_contiguous_buffer_is_one_huge_page() {
	local d free
	need_cli
	d=$(newdir contig)
	xset "$d" user.umm.contiguous 1
	xset "$d" user.umm.size 1M
	free=$(huge_free)
	touch "$d/a"
	expect_eq $((free - 1)) "$(huge_free)" 'huge pages free after one contiguous buffer'
	expect_eq $((2 * MiB)) "$(stat -c %s "$d/a")" 'size: rounded up to a huge page'
	expect_eq 1 "$(xget "$d/a" user.umm.contiguous)" 'user.umm.contiguous'
	expect_eq memfd "$(xget "$d/a" user.umm.heap)" 'user.umm.heap'
	expect_eq $((2 * MiB)) "$(used_bytes "$d")" 'charged the whole huge page'
	# The daemon serves it (hugetlbfs has no write(2)); bytes round trip.
	make_data "$S/300k" $((300 * 1024))
	dd if="$S/300k" of="$d/a" conv=notrunc status=none
	cmp -n $((300 * 1024)) "$S/300k" "$d/a" || fail 'bytes read back differ'
	expect_eq "$((2 * MiB)) rw" "$("$UMM_CLI" export "$d/a" rw)" 'export of a huge-page buffer'
	# Past one huge page, contiguity is a size no heap meets.
	xset "$d" user.umm.size 4M
	expect_errno ENOSPC touch "$d/b"
	[ -e "$d/b" ] && fail 'a refused create left a name'
	rm -f "$d/a"
	echo 2 >/proc/sys/vm/drop_caches 2>/dev/null || true
	wait_until 50 "[ \"\$(huge_free)\" = $free ]" ||
		fail "huge pages not returned: $(huge_free) free, $free before"
}

test_2m_alignment_copies_a_filled_buffer_into_huge_pages_at_export() {
	local d free pid
	need_cli
	d=$(newdir align)
	xset "$d" user.umm.align 2M
	make_data "$S/5000" 5000
	free=$(huge_free)
	cp "$S/5000" "$d/x"
	# Filled in a plain memfd; reading it moves nothing.
	cmp "$S/5000" "$d/x" || fail 'content before the export'
	expect_eq 0 "$(xget "$d/x" user.umm.contiguous)" 'contiguous before the export'
	expect_eq 8192 "$(used_bytes "$d")" 'charged its pages before the export'
	expect_eq "$free" "$(huge_free)" 'huge pages free before the export'
	# The copy into a huge page needs the buffer unheld but for the fd traded.
	hold "$d/x" '<'
	pid=$held_pid
	expect_errno EBUSY "$UMM_CLI" export "$d/x" r
	expect_eq 0 "$(xget "$d/x" user.umm.contiguous)" 'contiguous after a refused export'
	expect_eq "$free" "$(huge_free)" 'huge pages free after a refused export'
	# Refused, it is still growable.
	head -c 1000 /dev/zero >>"$d/x"
	truncate -s 5000 "$d/x"
	unhold "$pid"
	# The first export copies it into a huge page (the holder's release is
	# asynchronous: the daemon waits for it); the exported fd is that huge
	# page's memfd, whole.
	expect_eq "$((2 * MiB)) r" "$("$UMM_CLI" export "$d/x" r)" 'export of the 2M-aligned buffer'
	cmp "$S/5000" "$d/x" || fail 'content after the export'
	# It keeps its length; the memory (and the charge) is a whole huge page.
	expect_eq 5000 "$(stat -c %s "$d/x")" 'size after the export'
	expect_eq 1 "$(xget "$d/x" user.umm.contiguous)" 'one huge page is contiguous'
	expect_eq $((2 * MiB)) "$(used_bytes "$d")" 'charged the huge page'
	expect_eq $((free - 1)) "$(huge_free)" 'huge pages free after the export'
	# From the export on, its size is fixed.
	expect_errno EPERM sh -c "head -c 1 /dev/zero >>'$d/x'"
	expect_errno EBUSY truncate -s 8192 "$d/x"
	expect_eq 5000 "$(stat -c %s "$d/x")" 'size after refused resizes'
	rm -f "$d/x"
	echo 2 >/proc/sys/vm/drop_caches 2>/dev/null || true
	wait_until 50 "[ \"\$(huge_free)\" = $free ]" ||
		fail "huge pages not returned: $(huge_free) free, $free before"
}

check test_root_lists_memfd_with_contiguity_up_to_2m
check test_contiguous_buffer_is_one_huge_page
check test_2m_alignment_copies_a_filled_buffer_into_huge_pages_at_export
finish
