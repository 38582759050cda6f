#!/bin/bash
# test_camera.sh - the camera-to-output pipeline on the VM's real devices
# (issue "Real devices at both ends"): umm-demo --camera --display on the
# mount it is given, once on each heap that makes dma-bufs. vivid's capture
# node writes every frame straight into a ring buffer's dma-buf, the filter
# inverts it in place, the output node takes the same dma-buf; every frame
# is checked (the consumer's sum of the inverse is the camera's), no byte
# goes through read()/write(), and while streaming each buffer is held by
# both devices (the kernel's dma-buf references less the processes').
# Then, on each of those heaps, with tests/vm/v4l2_hold as the camera's
# user: a buffer too small for the camera refused at creation; a buffer
# unlinked while the camera captures into it lives on, held by the camera
# alone, until the camera lets go; the daemon killed while the camera
# streams: the stream goes on, a new daemon mounts at the same point.
# Skipped where there is no vivid (tests/vm/run loads it).
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

# shellcheck source=tests/vm/vivid.sh
. "$(dirname "$0")/vivid.sh"

DEMO=${UMM_CAMERA_DEMO:-$(dirname "$0")/../../build/tools/umm-demo}
HOLDER=${UMM_V4L2_HOLD:-$(dirname "$0")/../../build/tests/vm/v4l2_hold}
FRAMES=24
RING=3
HEAP=${HEAP:-}

[ -n "${UMM_MNT:-}" ] || { echo "SKIP: needs a umm mount (run-mounted.sh)"; exit 77; }
command -v v4l2-ctl >/dev/null || { echo "SKIP: no v4l2-ctl (v4l-utils; tests/vm/run installs it)"; exit 77; }
[ -x "$DEMO" ] || { echo "umm-demo $DEMO is not built"; exit 1; }

CAM=$(node_with 'Video Capture') || { echo "SKIP: no vivid capture node (tests/vm/run loads vivid)"; exit 77; }
OUT=$(node_with 'Video Output') || { echo "SKIP: no vivid output node"; exit 77; }

heaps=$(getfattr --absolute-names --only-values -n user.umm.heaps "$UMM_MNT" | awk '{ print $1 }')
heap_list=$(tr '\n' ' ' <<<"$heaps")
has_heap() { grep -qx -- "$1" <<<"$heaps"; }

# run_demo LOG ARGS...: umm-demo on this mount; its output in LOG.
run_demo() {
	local log=$1
	shift
	"$DEMO" -m "$UMM_MNT" -n "$FRAMES" -r "$RING" -o "$UMM_TMP/out" "$@" >"$log" 2>&1
}

# check_run LOG DEVICES: what a good run printed, with DEVICES per buffer.
check_run() {
	local log=$1 ndev=$2 held
	grep -E '^(frames|camera dropped|frames per second|CPU copies|read\(\)/write\(\)|frames checked) ' "$log" |
		sed 's/^/    /'
	grep -q "^frames checked      0 of $FRAMES not the camera's, inverted (sums); 0 the camera did not write" "$log" ||
		fail "not every frame was the camera's: $(grep -E 'frames checked|umm-demo' "$log" | head -n 5)"
	grep -q '^read()/write()      0 bytes' "$log" || fail "bytes went through read()/write()"
	grep -q '^CPU copies          0 bytes outside the filter' "$log" || fail "no CPU copy line"
	held=$(grep -c ": [0-9]* references, [0-9]* of processes, $ndev of devices" "$log" || true)
	grep ' references, ' "$log" | head -n 1 | sed 's/^ */    /'
	[ "$held" = "$RING" ] ||
		fail "$held of $RING buffers held by $ndev devices: $(grep ' references, ' "$log" | head -n 3)"
	[ ! -e "$UMM_MNT/ring" ] || fail "umm-demo left $UMM_MNT/ring"
}

# cache_of HEAP: the first CPU mapping type HEAP offers (DRM dumb buffers:
# writecombine only).
cache_of() {
	local c
	c=$(getfattr --absolute-names --only-values -n user.umm.heaps "$UMM_MNT" |
		awk -v h="$1" '$1 == h { for (i = 2; i <= NF; i++) if ($i ~ /^cache=/) print $i }' |
		sed 's/^cache=//; s/,.*//')
	echo "${c:-cached}"
}

# camera_dir DIR HEAP: DIR for camera frames on HEAP, checked by the camera.
camera_dir() {
	mkdir "$1"
	on_exit "rm -rf '$1'"
	xset "$1" user.umm.heap "$2"
	xset "$1" user.umm.cache "$(cache_of "$2")"
	xset "$1" user.umm.devices "$CAM"
}

# pipeline_on HEAP: camera -> filter -> output on HEAP's buffers.
pipeline_on() {
	local heap=$1 log=$UMM_TMP/demo-$1.log rc=0
	has_heap "$heap" || skip "no heap $heap here (heaps: $heap_list)"
	run_demo "$log" --heap "$heap" --cache "$(cache_of "$heap")" --camera "$CAM" --display "$OUT" ||
		rc=$?
	[ "$rc" = 0 ] || fail "umm-demo on $heap: exit status $rc: $(tail -n 8 "$log")"
	grep -q "heap=$heap " "$log" || fail "the ring was not on $heap: $(grep effective "$log")"
	check_run "$log" 2
}

test_pipeline_on_udmabuf() { pipeline_on udmabuf; }
test_pipeline_on_dma_heap_system() { pipeline_on dma-heap:system; }
test_pipeline_on_drm_card0() { pipeline_on drm:card0; }

# Without --display the consumer checks and frees each frame itself.
test_camera_alone() {
	local log=$UMM_TMP/demo-cam.log rc=0
	run_demo "$log" --camera "$CAM" || rc=$?
	[ "$rc" = 0 ] || fail "umm-demo --camera: exit status $rc: $(tail -n 8 "$log")"
	check_run "$log" 1
}

# memfd makes no dma-buf: the ring cannot be made for the devices, and says so.
test_memfd_ring_is_refused() {
	local log=$UMM_TMP/demo-memfd.log rc=0
	run_demo "$log" --heap memfd --camera "$CAM" --display "$OUT" || rc=$?
	[ "$rc" = 1 ] || fail "umm-demo on memfd: exit status $rc, expected 1: $(tail -n 5 "$log")"
	grep -q 'frame0' "$log" || fail "no message naming the buffer: $(tail -n 5 "$log")"
	sed -n 's/^umm-demo: /    umm-demo: /p' "$log" | head -n 2
	[ ! -e "$UMM_MNT/ring" ] || fail "umm-demo left $UMM_MNT/ring"
}

# --display without --camera, and a node of the wrong kind: usage errors.
test_bad_devices_are_refused() {
	local rc=0
	"$DEMO" -m "$UMM_MNT" --display "$OUT" >"$UMM_TMP/bad1" 2>&1 || rc=$?
	if [ "$rc" != 1 ] || ! grep -q 'needs --camera' "$UMM_TMP/bad1"; then
		fail "--display alone: $rc $(cat "$UMM_TMP/bad1")"
	fi
	rc=0
	"$DEMO" -m "$UMM_MNT" --camera "$OUT" >"$UMM_TMP/bad2" 2>&1 || rc=$?
	if [ "$rc" != 1 ] || ! grep -q 'no single-planar streaming video capture node' "$UMM_TMP/bad2"; then
		fail "an output node as the camera: $rc $(cat "$UMM_TMP/bad2")"
	fi
	[ ! -e "$UMM_MNT/ring" ] || fail "umm-demo left $UMM_MNT/ring"
}

# ---- a camera holding one buffer (tests/vm/v4l2_hold) ----

# The count of the dma-buf of inode INO in the kernel's view, or nothing.
dmabuf_count() {
	awk -v ino="$1" 'NF >= 6 && $6 + 0 == ino + 0 && $1 ~ /^[0-9]+$/ { print $4 + 0 }' \
		/sys/kernel/debug/dma_buf/bufinfo
}

# start_holder BUFFER: v4l2_hold on the camera, commands through a FIFO (fd
# 7), answers in $UMM_TMP/hold.out; waits for "streaming INO". Sets hold_pid, hold_ino.
hold_pid=
hold_ino=
start_holder() {
	local fifo=$UMM_TMP/hold.in
	rm -f "$fifo" "$UMM_TMP/hold.out"
	mkfifo "$fifo"
	"$HOLDER" "$CAM" "$1" <"$fifo" >"$UMM_TMP/hold.out" 2>"$UMM_TMP/hold.err" &
	hold_pid=$!
	on_exit "kill -KILL $hold_pid 2>/dev/null; wait $hold_pid 2>/dev/null"
	exec 7>"$fifo"
	wait_until 300 "grep -q '^streaming\|^error' '$UMM_TMP/hold.out' || ! kill -0 $hold_pid 2>/dev/null" || true
	hold_ino=$(sed -n 's/^streaming //p' "$UMM_TMP/hold.out")
	[ -n "$hold_ino" ] || fail "v4l2_hold did not stream: $(cat "$UMM_TMP/hold.out" "$UMM_TMP/hold.err")"
}

# hold_cmd CMD WANT: send CMD, wait for an answer line matching WANT.
hold_cmd() {
	echo "$1" >&7
	wait_until 600 "grep -q '$2\|^error' '$UMM_TMP/hold.out' || ! kill -0 $hold_pid 2>/dev/null" || true
	grep -q "$2" "$UMM_TMP/hold.out" ||
		fail "v4l2_hold: '$1' got no '$2': $(cat "$UMM_TMP/hold.out" "$UMM_TMP/hold.err")"
}

# A buffer whose name goes while the camera captures into it lives on, the
# camera's, until the device lets go; then the kernel frees it.
unlinked_buffer_stays_with_the_camera() {
	local d=$UMM_MNT/hold count
	has_heap "$HEAP" || skip "no heap $HEAP here"
	[ -r /sys/kernel/debug/dma_buf/bufinfo ] || skip 'no dma-buf debug view'
	camera_dir "$d" "$HEAP"
	xset "$d" user.umm.size_from "$CAM"
	expect_ok touch "$d/f"
	expect_eq "$HEAP" "$(xget "$d/f" user.umm.heap)" 'the buffer'"'"'s heap'
	start_holder "$d/f"
	count=$(dmabuf_count "$hold_ino")
	echo "    streaming into dma-buf $hold_ino ($(xget "$d/f" user.umm.heap)): $count references"
	expect_ok rm "$d/f"
	[ ! -e "$d/f" ] || fail 'the name is still there'
	hold_cmd 'frames 5' '^ok 5 '
	count=$(dmabuf_count "$hold_ino")
	if [ -z "$count" ] || [ "$count" -lt 1 ]; then
		fail "the dma-buf $hold_ino is gone while the camera holds it"
	fi
	echo "    after the unlink: 5 more frames captured, dma-buf $hold_ino has $count reference(s)"
	expect_eq 0 "$(xget "$d" user.umm.used_bytes)" 'used_bytes of the directory after the unlink'
	# the holder's own fd goes: the camera alone holds the buffer, and fills it
	hold_cmd alone '^alone'
	count=$(dmabuf_count "$hold_ino")
	expect_eq 1 "$count" "references to dma-buf $hold_ino with only the camera holding it"
	hold_cmd take '^took '
	echo "    held by the camera alone, no name, no fd: it got frame $(sed -n 's/^took //p' "$UMM_TMP/hold.out")"
	hold_cmd stop '^released'
	wait "$hold_pid" || fail "v4l2_hold: exit status $?"
	wait_until 100 "[ -z \"\$(dmabuf_count $hold_ino)\" ]" ||
		fail "dma-buf $hold_ino outlived the camera: $(dmabuf_count "$hold_ino") references"
	echo "    the camera let go: dma-buf $hold_ino is freed"
}

# A daemon killed while the camera streams into its buffer: the stream goes
# on (the device holds the memory, not the daemon), until it stops; the dead
# mount goes and a new daemon mounts at the same point.
daemon_killed_while_the_camera_streams() {
	local m2=$UMM_TMP/m2 s2=$UMM_TMP/s2 count
	has_heap "$HEAP" || skip "no heap $HEAP here"
	start_own_fs "$m2" "$s2"
	mkdir "$m2/cam"
	xset "$m2/cam" user.umm.heap "$HEAP"
	xset "$m2/cam" user.umm.cache "$(cache_of "$HEAP")"
	xset "$m2/cam" user.umm.size_from "$CAM"
	xset "$m2/cam" user.umm.devices "$CAM"
	expect_ok touch "$m2/cam/f"
	expect_eq "$HEAP" "$(xget "$m2/cam/f" user.umm.heap)" 'the buffer'"'"'s heap'
	start_holder "$m2/cam/f"
	hold_cmd 'frames 3' '^ok 3 '
	kill -KILL "$own_fs_pid"
	wait "$own_fs_pid" 2>/dev/null || true
	if stat "$m2" >/dev/null 2>&1; then fail 'the dead mount still answers'; fi
	hold_cmd 'frames 10' '^ok 10 '
	count=$(dmabuf_count "$hold_ino")
	echo "    daemon killed: the camera captured 10 more frames into dma-buf $hold_ino ($count reference)"
	fusermount3 -u "$m2" 2>/dev/null || umount -l "$m2"
	start_own_fs "$m2" "$s2"
	expect_eq '' "$(ls -A "$m2")" 'the new mount is empty'
	hold_cmd 'frames 2' '^ok 2 '
	hold_cmd stop '^released'
	wait "$hold_pid" || fail "v4l2_hold: exit status $?"
	wait_until 100 "[ -z \"\$(dmabuf_count $hold_ino)\" ]" ||
		fail "dma-buf $hold_ino outlived the camera and the daemon"
	echo "    the stream stopped; its dma-buf is freed; the new daemon serves $m2"
	fusermount3 -u "$m2"
	wait_until 100 "! kill -0 $own_fs_pid 2>/dev/null" || fail 'the new daemon did not leave after the unmount'
}

# A buffer smaller than the camera's sizeimage is refused at creation on
# every heap, with a log line saying what the camera needs.
buffer_too_small_is_refused() {
	local d=$UMM_MNT/small size
	has_heap "$HEAP" || skip "no heap $HEAP here"
	size=$(v4l2-ctl -d "$CAM" --get-fmt-video | sed -n 's/.*Size Image *: *\([0-9]*\).*/\1/p')
	camera_dir "$d" "$HEAP"
	xset "$d" user.umm.size 64K
	expect_errno 'EINVAL|EOPNOTSUPP|ENOSPC' touch "$d/f"
	[ ! -e "$d/f" ] || fail 'a refused buffer left a name'
	grep -F "$CAM needs $size bytes a buffer" "$UMM_FS_LOG" | tail -n 1 | sed 's/^/    /'
	grep -qF "$CAM needs $size bytes a buffer" "$UMM_FS_LOG" ||
		fail "no log line naming $CAM and its $size bytes: $(tail -n 3 "$UMM_FS_LOG")"
	# the size the camera needs is taken, on that heap
	xset "$d" user.umm.size_from "$CAM"
	expect_ok touch "$d/f"
	expect_eq "$HEAP" "$(xget "$d/f" user.umm.heap)" 'the buffer'"'"'s heap'
}

# The device tests on each heap that makes dma-bufs.
per_heap=()
for h in udmabuf dma-heap:system drm:card0; do
	f=${h//[:-]/_}
	eval "test_too_small_on_$f() { HEAP=$h; buffer_too_small_is_refused; }"
	eval "test_unlinked_buffer_stays_with_the_camera_on_$f() { HEAP=$h; unlinked_buffer_stays_with_the_camera; }"
	eval "test_daemon_killed_while_the_camera_streams_on_$f() { HEAP=$h; daemon_killed_while_the_camera_streams; }"
	per_heap+=("test_too_small_on_$f" "test_unlinked_buffer_stays_with_the_camera_on_$f"
		"test_daemon_killed_while_the_camera_streams_on_$f")
done

echo "    camera $CAM, output $OUT; heaps: $heap_list"
check test_pipeline_on_udmabuf
check test_pipeline_on_dma_heap_system
check test_pipeline_on_drm_card0
check test_camera_alone
check test_memfd_ring_is_refused
check test_bad_devices_are_refused
for t in "${per_heap[@]}"; do
	check "$t"
done
finish
