#!/bin/bash
# test_heapchoice.sh - the heap a buffer lands on, by its directory's
# constraints (SPEC 3, 4), from a shell as a user would see it: setfattr,
# getfattr, truncate, dd. The "done when" of issue 3:
#
#   directory                              buffer lands on
#   (default)                              udmabuf
#   user.umm.size=96M (udmabuf: 64M max)   dma-heap:system
#   user.umm.cache=writecombine            drm:card0
#   user.umm.heap=memfd                    memfd
#   user.umm.devices=/dev/dri/card0        udmabuf (vgem imports it)
#   user.umm.heap=dma-heap:system          dma-heap:system
#
# Each directory gets a buffer sized by its user.umm.size and one filled by
# dd with no size, then exported (the first export places it); getfattr -n
# user.umm.heap of both is printed and compared. Needs /dev/udmabuf (and for
# the drm and devices rows /dev/dri/card0): skipped without it, so it runs in
# the VM (tests/vm/run), not on a machine with memfd only.
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

M=$UMM_MNT
S=$UMM_TMP
CARD=/dev/dri/card0

if [ ! -c /dev/udmabuf ]; then
	echo "SKIP: no /dev/udmabuf here: the heap choice needs the real dma-buf heaps (tests/vm/run)"
	exit 77
fi

# need_heap NAME: skip the check unless the mount lists heap NAME.
need_heap() {
	xget "$M" user.umm.heaps | grep -q "^$1 " ||
		skip "user.umm.heaps does not list $1: $(xget "$M" user.umm.heaps | cut -d' ' -f1 | tr '\n' ' ')"
}

# heap_of FILE: the heap of buffer FILE.
heap_of() {
	xget "$1" user.umm.heap
}

# expect_heap WANT FILE WHAT: print "WHAT: FILE -> HEAP" and compare.
expect_heap() {
	local got
	got=$(heap_of "$2") || true
	printf '    %-50s %-20s -> %s\n' "$3" "${2#"$M"}" "$got" >&2
	expect_eq "$1" "$got" "user.umm.heap of ${2#"$M"} ($3)"
}

# choice DIR WANT WHAT SIZE [NAME VALUE]...: make DIR with the constraints
# given, then two buffers in it: one sized by user.umm.size=SIZE (touch),
# one with no size filled by dd and read back; both must land on WANT.
choice() {
	local name=$1 want=$2 what=$3 size=$4 d
	shift 4
	d=$(newdir "$name")
	while [ $# -ge 2 ]; do
		xset "$d" "$1" "$2"
		shift 2
	done
	# a buffer with no size: dd fills it, its first export places it
	dd if="$S/data" of="$d/filled" bs=64K status=none
	"$UMM_CLI" export "$d/filled" rw >/dev/null || fail "export of $d/filled failed"
	cmp "$S/data" "$d/filled" || fail "$d/filled: content differs after placement"
	expect_heap "$want" "$d/filled" "$what (filled)"
	# a sized one: allocated at create
	xset "$d" user.umm.size "$size"
	touch "$d/sized"
	expect_eq "$(to_bytes "$size")" "$(stat -c %s "$d/sized")" "size of $d/sized"
	expect_heap "$want" "$d/sized" "$what (user.umm.size=$size)"
	rm -f "$d/filled" "$d/sized"
}

setup_data() {
	[ -e "$S/data" ] || make_data "$S/data" $((256 * 1024))
}

test_default_dir_gives_udmabuf() {
	setup_data
	choice default udmabuf 'default' 1M
	# Not a check, a report: where a buffer of a size that is no multiple
	# of the page goes, and the size it keeps.
	local d
	d=$(newdir default-odd)
	head -c 100000 "$S/data" >"$S/odd"
	cp "$S/odd" "$d/odd"
	"$UMM_CLI" export "$d/odd" rw >/dev/null || note "(export of the 100000-byte file failed)"
	cmp -s "$S/odd" "$d/odd" || note "(cp of a 100000-byte file: cmp differs)"
	note "(cp of a 100000-byte file lands on $(heap_of "$d/odd"), size $(stat -c %s "$d/odd"))"
	rm -f "$d/odd"
}

test_96m_dir_gives_dma_heap_system() {
	setup_data
	need_heap dma-heap:system
	local d
	d=$(newdir big)
	xset "$d" user.umm.size 96M
	touch "$d/sized"
	expect_heap dma-heap:system "$d/sized" 'user.umm.size=96M'
	rm -f "$d/sized"
	# a 96M buffer without a size: truncate chooses it, its export places it
	d=$(newdir big-truncated)
	truncate -s 96M "$d/f"
	dd if="$S/data" of="$d/f" bs=64K conv=notrunc status=none
	"$UMM_CLI" export "$d/f" rw >/dev/null || fail "export of $d/f failed"
	expect_heap dma-heap:system "$d/f" 'truncate -s 96M'
	expect_eq $((96 << 20)) "$(stat -c %s "$d/f")" 'size of the truncated buffer'
	rm -f "$d/f"
}

test_writecombine_dir_gives_drm_card0() {
	[ -c "$CARD" ] || skip "no $CARD"
	setup_data
	need_heap drm:card0
	choice wc drm:card0 'user.umm.cache=writecombine' 1M user.umm.cache writecombine
}

test_heap_memfd_dir_gives_memfd() {
	setup_data
	choice memfd memfd 'user.umm.heap=memfd' 1M user.umm.heap memfd
}

test_devices_card0_dir_gives_a_heap_vgem_imports() {
	[ -c "$CARD" ] || skip "no $CARD"
	setup_data
	choice devices udmabuf "user.umm.devices=$CARD" 1M user.umm.devices "$CARD"
}

test_heap_dma_heap_system_dir_gives_dma_heap_system() {
	setup_data
	need_heap dma-heap:system
	choice dmaheap dma-heap:system 'user.umm.heap=dma-heap:system' 1M \
		user.umm.heap dma-heap:system
}

test_devices_dev_null_is_refused() {
	local d
	d=$(newdir null)
	expect_errno EOPNOTSUPP setfattr -n user.umm.devices -v /dev/null "$d"
}

note "heaps of the mount:"
xget "$M" user.umm.heaps | sed 's/^/      /' >&2
echo >&2

check test_default_dir_gives_udmabuf
check test_96m_dir_gives_dma_heap_system
check test_writecombine_dir_gives_drm_card0
check test_heap_memfd_dir_gives_memfd
check test_devices_card0_dir_gives_a_heap_vgem_imports
check test_heap_dma_heap_system_dir_gives_dma_heap_system
check test_devices_dev_null_is_refused
finish
