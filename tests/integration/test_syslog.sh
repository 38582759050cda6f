#!/bin/bash
# test_syslog.sh - a detached umm-fs logs to syslog: one line per refused
# request, with its reason (umm-fs(8), DIAGNOSTICS).
#
# The machine may run no syslog daemon, so the test runs in a private mount
# namespace with a tmpfs over /dev (/dev/fuse and /dev/null bound back in) and
# umm_cli listening on /dev/log, where syslog(3) sends. Nothing outside the
# namespace sees any of it. Needs root, /dev/fuse and unshare; else exit 77.
set -euo pipefail

if [ "${1:-}" != inner ]; then
	if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v unshare >/dev/null; then
		echo "SKIP: needs root, /dev/fuse and unshare"
		exit 77
	fi
	tmp=$(mktemp -d)
	rc=0
	unshare -m --propagation private bash "$0" inner "$tmp" || rc=$?
	rm -rf --one-file-system "$tmp"
	exit "$rc"
fi

T=$2
mnt=$T/mnt
listener=
fail() {
	echo "FAIL: $*"
	exit 1
}
cleanup() {
	if grep -q " $mnt " /proc/mounts; then
		umount "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	[ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener" 2>/dev/null
	# the daemon is not our child: its pid is in its syslog lines
	pid=$(sed -n 's/.*umm-fs\[\([0-9]*\)\].*/\1/p' "$T/log.out" 2>/dev/null | head -1)
	if [ -n "$pid" ] && [ -e "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm")" = umm-fs ]; then
		sleep 1
		[ -e "/proc/$pid" ] && kill "$pid" 2>/dev/null
	fi
	return 0
}
trap cleanup EXIT

mkdir "$T/olddev" "$mnt"
mount --bind /dev "$T/olddev"
mount -t tmpfs -o mode=0755 umm-test-dev /dev
for n in fuse null zero urandom; do
	: >"/dev/$n"
	mount --bind "$T/olddev/$n" "/dev/$n"
done

"$UMM_CLI" listen /dev/log 'refused' 10 >"$T/log.out" &
listener=$!
for _ in $(seq 50); do
	grep -q ready "$T/log.out" && break
	sleep 0.1
done
grep -q ready "$T/log.out" || fail 'the listener on /dev/log did not start'

# Detached: no -f. The daemon forks away from us.
"$UMM_FS" "$mnt" -o "socket=$T/sock,size=1M" || fail 'umm-fs did not mount'
grep -q " $mnt fuse.umm-fs " /proc/mounts || fail 'no mount after umm-fs returned'

if setfattr -n user.umm.size -v 12Q "$mnt" 2>/dev/null; then
	fail 'a bad value was taken'
fi
wait "$listener" || fail "no refused line reached syslog: $(cat "$T/log.out")"
listener=
grep -q 'umm-fs\[[0-9]*\]: setxattr user.umm.size on / refused: Invalid argument' "$T/log.out" ||
	fail "unexpected syslog line: $(cat "$T/log.out")"
echo "ok   refused request logged to syslog: $(grep refused "$T/log.out")"

umount "$mnt"
for _ in $(seq 50); do
	[ -e "$T/sock" ] || break
	sleep 0.1
done
[ -e "$T/sock" ] && fail 'the daemon did not leave after the unmount'
echo "ok   the detached daemon left after the unmount"
echo "1 passed, 0 failed"
