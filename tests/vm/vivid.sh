# shellcheck shell=bash
# vivid.sh - sourced by the VM's V4L2 tests (test_v4l2.sh, test_camera.sh):
# one run at a time on vivid's queues (tests/vm/inside runs both modes at
# once), the video nodes, and node_with.
exec 9>/tmp/umm-vm-v4l2.lock
flock 9

shopt -s nullglob
nodes=(/dev/video*)
shopt -u nullglob

# node_with CAP: the first vivid node whose device caps name CAP.
node_with() {
	local n
	for n in "${nodes[@]}"; do
		v4l2-ctl -d "$n" --info 2>/dev/null | grep -q 'Driver name *: vivid' || continue
		v4l2-ctl -d "$n" --info 2>/dev/null | sed -n '/Device Caps/,$p' | grep -qx "[[:space:]]*$1" &&
			{ echo "$n"; return 0; }
	done
	return 1
}
