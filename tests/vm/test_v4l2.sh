#!/bin/bash
# test_v4l2.sh - the VM's V4L2 devices, as v4l2-ctl (v4l-utils, a program
# nobody here wrote) sees them: vivid's video capture and video output
# nodes exist, stream, take dma-bufs (V4L2_MEMORY_DMABUF in their buffer
# capabilities), and report a format with a sizeimage. The groundwork of the
# camera-to-output pipeline (issue "Real devices at both ends"). Skipped
# where there is no /dev/video* (tests/vm/run loads vivid in the VM).
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

# shellcheck source=tests/vm/vivid.sh
. "$(dirname "$0")/vivid.sh"

BUFCAPS=${UMM_V4L2_BUFCAPS:-$(dirname "$0")/../../build/tests/vm/v4l2_bufcaps}

if [ ${#nodes[@]} -eq 0 ]; then
	echo "SKIP: no /dev/video* here: the V4L2 tests need vivid (tests/vm/run)"
	exit 77
fi
if ! command -v v4l2-ctl >/dev/null; then
	echo "SKIP: no v4l2-ctl (v4l-utils; tests/vm/run installs it)"
	exit 77
fi

test_devices_are_listed() {
	v4l2-ctl --list-devices >"$UMM_TMP/list" 2>&1 || fail "v4l2-ctl --list-devices: $(cat "$UMM_TMP/list")"
	sed 's/^/    /' "$UMM_TMP/list"
	grep -q vivid "$UMM_TMP/list" || fail "no vivid device listed"
}

# check_node CAP TYPE FMTOPT: the node has a format, takes dma-bufs and streams.
check_node() {
	local cap=$1 type=$2 fmtopt=$3 n stream=(--stream-mmap --stream-to=/dev/null)
	[ "$type" = output ] && stream=(--stream-out-mmap)
	n=$(node_with "$cap") || fail "no vivid node with $cap"
	echo "    $cap: $n"
	v4l2-ctl -d "$n" --info | sed -n '/Device Caps/,$p' | grep -qx '[[:space:]]*Streaming' ||
		fail "$n cannot stream"
	v4l2-ctl -d "$n" "$fmtopt" >"$UMM_TMP/fmt" 2>&1 || fail "$n $fmtopt: $(cat "$UMM_TMP/fmt")"
	sed 's/^/    /' "$UMM_TMP/fmt"
	grep -Eq 'Size Image *: *[1-9]' "$UMM_TMP/fmt" || fail "$n reports no sizeimage"
	# the queue takes dma-bufs (VIDIOC_REQBUFS, V4L2_MEMORY_DMABUF)
	"$BUFCAPS" "$n" "$type" >"$UMM_TMP/caps" 2>&1 || fail "$n: $(cat "$UMM_TMP/caps")"
	echo "    buffers: $(cat "$UMM_TMP/caps")"
	# and it streams: four frames through mmap buffers
	v4l2-ctl -d "$n" "${stream[@]}" --stream-count=4 >"$UMM_TMP/stream" 2>&1 ||
		fail "$n: v4l2-ctl ${stream[*]}: $(tail -n 3 "$UMM_TMP/stream")"
}

test_capture_node() {
	check_node 'Video Capture' capture --get-fmt-video
}

test_output_node() {
	check_node 'Video Output' output --get-fmt-video-out
}

# The capture node's sizeimage, from v4l2-ctl.
sizeimage_of() {
	v4l2-ctl -d "$1" "$2" | sed -n 's/.*Size Image *: *\([0-9]*\).*/\1/p'
}

# user.umm.devices naming a V4L2 node: the real import test at allocation
# (REQBUFS and PREPARE_BUF of the buffer's dma-buf at the node's format).
test_device_constraint_takes_a_buffer_of_the_format() {
	local cam d size
	[ -n "${UMM_MNT:-}" ] || skip "not on a umm mount"
	cam=$(node_with 'Video Capture') || fail "no vivid capture node"
	size=$(sizeimage_of "$cam" --get-fmt-video)
	d=$(newdir cam)
	xset "$d" user.umm.devices "$cam"
	xset "$d" user.umm.size "$size"
	expect_ok touch "$d/frame0"
	# a size the directory fixes is whole pages of the heap
	expect_eq "$(page_round "$size")" "$(stat -c %s "$d/frame0")" 'size of a frame buffer'
	heap=$(xget "$d/frame0" user.umm.heap)
	echo "    $cam takes a $size-byte buffer of $heap"
	case $heap in memfd) fail "a device-checked buffer on memfd" ;; esac
}

test_device_constraint_refuses_a_buffer_too_small() {
	local cam d size
	[ -n "${UMM_MNT:-}" ] || skip "not on a umm mount"
	cam=$(node_with 'Video Capture') || fail "no vivid capture node"
	size=$(sizeimage_of "$cam" --get-fmt-video)
	d=$(newdir small)
	xset "$d" user.umm.devices "$cam"
	xset "$d" user.umm.size 64K
	expect_errno 'EINVAL|EOPNOTSUPP|ENOSPC' touch "$d/frame0"
	[ ! -e "$d/frame0" ] || fail 'a refused buffer left a name'
	grep -F "$cam needs $size bytes a buffer" "$UMM_FS_LOG" ||
		fail "no log line naming $cam and its $size bytes: $(tail -n 3 "$UMM_FS_LOG")"
}

# user.umm.size_from: a directory's size from its devices' current formats
# (VIDIOC_G_FMT), the largest of them, as v4l2-ctl reads them.
test_size_from_takes_the_formats_of_the_nodes() {
	local cam out d csize osize max
	[ -n "${UMM_MNT:-}" ] || skip "not on a umm mount"
	cam=$(node_with 'Video Capture') || fail "no vivid capture node"
	out=$(node_with 'Video Output') || fail "no vivid output node"
	csize=$(sizeimage_of "$cam" --get-fmt-video)
	osize=$(sizeimage_of "$out" --get-fmt-video-out)
	max=$((csize > osize ? csize : osize))
	d=$(newdir sizefrom)
	xset "$d" user.umm.size_from "$cam"
	expect_eq "$cam" "$(xget "$d" user.umm.size_from)" 'user.umm.size_from read back'
	expect_ok touch "$d/one"
	expect_eq "$(page_round "$csize")" "$(stat -c %s "$d/one")" "a buffer sized from $cam"
	# both nodes, and the buffers checked by both (set before there are any)
	d=$(newdir sizefrom2)
	xset "$d" user.umm.size_from "$cam $out"
	xset "$d" user.umm.devices "$cam $out"
	expect_ok touch "$d/both"
	expect_eq "$(page_round "$max")" "$(stat -c %s "$d/both")" "a buffer for $cam and $out"
	echo "    $cam needs $csize bytes, $out $osize: buffers of $(stat -c %s "$d/both")"
	# a DRM node has no format
	if [ -e /dev/dri/card0 ]; then
		expect_errno EOPNOTSUPP setfattr -n user.umm.size_from -v /dev/dri/card0 "$d"
		grep -F '/dev/dri/card0 is a DRM device' "$UMM_FS_LOG" >/dev/null ||
			fail "no log line for the DRM node: $(tail -n 2 "$UMM_FS_LOG")"
		expect_eq "$cam $out" "$(xget "$d" user.umm.size_from)" 'a refused value keeps the old one'
	fi
}

check test_devices_are_listed
check test_capture_node
check test_output_node
check test_device_constraint_takes_a_buffer_of_the_format
check test_size_from_takes_the_formats_of_the_nodes
check test_device_constraint_refuses_a_buffer_too_small
finish
