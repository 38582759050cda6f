#!/bin/bash
# test_fstab.sh - umm-fs mounted the way mount(8) and fstab(5) do it: type
# fuse.umm-fs, through mount.fuse3, which runs "umm-fs SOURCE MOUNTPOINT -o
# OPTIONS" and lets the daemon detach (SPEC 2).
#
# The runner's own mount (UMM_MNT) is not used: each check makes its own
# mounts under UMM_TMP, and unmounts them, even when it fails.
#
# mount(8) clears PATH before it runs mount.fuse3, whose /bin/sh then finds
# "umm-fs" in its default path only (/usr/local/sbin first). So the script
# runs itself again in a private mount namespace, where a directory holding
# umm-fs -> $UMM_FS is bound over /usr/local/sbin (or /usr/local/bin): neither
# that nor the test's mounts are seen outside. The daemons detach, so they are
# found by their socket path, which is unique to the test, and any that
# outlives its unmount is ended by pid.
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail

if [ -z "${UMM_FSTAB_NS:-}" ]; then
	: "${UMM_TMP:?UMM_TMP is not set: run this test through run-mounted.sh}"
	for tool in unshare mount.fuse3 findmnt; do
		if ! PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null; then
			echo "SKIP: $tool is missing" >&2
			exit 77
		fi
	done
	UMM_FSTAB_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

: "${UMM_FS:?UMM_FS (the umm-fs binary) is not set}"
[ -x "$UMM_FS" ] || fail "UMM_FS=$UMM_FS is not executable (from $PWD)"
FS_BIN=$(readlink -f -- "$UMM_FS")

# Our copy of the runner's mount would keep its daemon alive should this
# namespace outlive the test: drop it (the runner's own stays).
umount -l "$UMM_MNT" 2>/dev/null || true

SBIN=$UMM_TMP/sbin
mkdir -p "$SBIN"
ln -sf "$FS_BIN" "$SBIN/umm-fs"
PATH=$SBIN:$PATH
HELPER_DIR=
for d in /usr/local/sbin /usr/local/bin; do
	if [ -d "$d" ]; then
		HELPER_DIR=$d
		break
	fi
done
if [ -z "$HELPER_DIR" ]; then
	echo "SKIP: neither /usr/local/sbin nor /usr/local/bin exists to put umm-fs in" >&2
	exit 77
fi
mount --bind "$SBIN" "$HELPER_DIR"

MODE_OPT=
[ "$UMM_MODE" = nopassthrough ] && MODE_OPT=,nopassthrough

# fstype_of MNT: the type of the file system mounted exactly at MNT, or nothing.
fstype_of() {
	awk -v m="$1" '$2 == m { t = $3 } END { if (t) print t }' /proc/self/mounts
}

# mount_opts_of MNT: its mount options, one a line.
mount_opts_of() {
	awk -v m="$1" '$2 == m { o = $4 } END { print o }' /proc/self/mounts | tr , '\n'
}

# alive PID: the process exists and is no zombie (a detached daemon is
# reaped by init, maybe late).
alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# daemon_of SOCK: the pid of the live umm-fs whose options name SOCK.
# (Builtins only in the loop over /proc: it runs often.)
daemon_of() {
	local p comm arg opt opts
	for p in /proc/[0-9]*; do
		{ read -r comm <"$p/comm"; } 2>/dev/null || continue
		[ "$comm" = umm-fs ] || continue
		alive "${p#/proc/}" || continue
		while IFS= read -r -d '' arg; do
			IFS=, read -ra opts <<<"$arg"
			for opt in "${opts[@]}"; do
				if [ "$opt" = "socket=$1" ]; then
					echo "${p#/proc/}"
					return 0
				fi
			done
		done <"$p/cmdline" 2>/dev/null
	done
	return 0
}

# cleanup_mount MNT SOCK: unmount MNT if it is still mounted, and make sure
# the daemon serving SOCK is gone (ended by its pid if need be).
cleanup_mount() {
	local m=$1 s=$2 pid
	pid=$(daemon_of "$s")
	if [ -n "$(fstype_of "$m")" ]; then
		umount "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m"
	fi
	[ -n "$pid" ] || return 0
	wait_until 50 "! alive $pid" && return 0
	note "umm-fs (pid $pid) still running after the unmount: SIGTERM"
	kill -TERM "$pid" 2>/dev/null
	wait_until 20 "! alive $pid" || kill -KILL "$pid" 2>/dev/null
}

# expect_mounted MNT SOCK: MNT is a umm mount that mount.fuse3 started with
# our umm-fs, detached, serving SOCK, with the 16M budget it was given.
expect_mounted() {
	local m=$1 s=$2 pid blocks
	expect_eq fuse.umm-fs "$(fstype_of "$m")" "fstype of $m in /proc/self/mounts"
	mount_opts_of "$m" | grep -qx default_permissions || fail "$m lacks default_permissions"
	mount_opts_of "$m" | grep -qx allow_other || fail "$m (mounted by root) lacks allow_other"
	pid=$(daemon_of "$s")
	[ -n "$pid" ] || fail "no umm-fs process with socket=$s"
	expect_eq "$FS_BIN" "$(readlink -f "/proc/$pid/exe")" "the daemon mount.fuse3 ran"
	wait_until 50 "[ -S '$s' ]" || fail "export socket $s did not appear"
	expect_eq "$s" "$(xget "$m" user.umm.socket)" 'user.umm.socket'
	blocks=$(stat -f -c '%b * %S' "$m")
	expect_eq $((16 << 20)) $((blocks)) "statfs total bytes of $m (size=16M)"
}

# expect_works MNT: directories, constraint xattrs, sized and filled buffers,
# and an export through the socket.
expect_works() {
	local m=$1
	mkdir "$m/frames"
	xset "$m/frames" user.umm.size 64K
	touch "$m/frames/f0"
	expect_eq 65536 "$(stat -c %s "$m/frames/f0")" 'size of a buffer created in a sized dir'
	printf 'hello umm\n' >"$m/note"
	expect_eq 'hello umm' "$(cat "$m/note")" 'bytes read back'
	[ -n "$(xget "$m/frames/f0" user.umm.heap)" ] || fail 'user.umm.heap is empty'
	if [ -n "$UMM_CLI" ]; then
		expect_eq '65536 rw' "$("$UMM_CLI" export "$m/frames/f0" rw)" 'umm_open of a buffer'
	fi
}

# expect_gone MNT SOCK PID: after the unmount, the daemon exits and removes its socket.
expect_gone() {
	local m=$1 s=$2 pid=$3
	expect_eq '' "$(fstype_of "$m")" "what is mounted at $m after the unmount"
	wait_until 50 "! alive $pid" || fail "umm-fs (pid $pid) still running 5 s after the unmount"
	wait_until 20 "[ ! -e '$s' ]" || fail "socket $s still there after the daemon left"
}

test_mount_t_fuse_umm_fs_mounts_serves_and_umount_ends_the_daemon() {
	local m=$UMM_TMP/m1 s=$UMM_TMP/s1 out pid
	mkdir "$m"
	on_exit "cleanup_mount '$m' '$s'"
	out=$(mount -t fuse.umm-fs umm-fs "$m" -o "size=16M,socket=$s$MODE_OPT" 2>&1) ||
		fail "mount -t fuse.umm-fs failed: $out"
	expect_mounted "$m" "$s"
	pid=$(daemon_of "$s")
	# mount.fuse3 passes the source first; umm-fs takes the last operand as the mount point.
	expect_eq "umm-fs umm-fs $m -o" "$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -d' ' -f1-4)" \
		'command line mount.fuse3 gave'
	expect_works "$m"
	out=$(umount "$m" 2>&1) || fail "umount $m failed: $out"
	expect_gone "$m" "$s" "$pid"
}

test_fusermount3_u_unmounts_a_mount_fuse3_mount() {
	local m=$UMM_TMP/m2 s=$UMM_TMP/s2 out pid
	mkdir "$m"
	on_exit "cleanup_mount '$m' '$s'"
	# The source is not used: anything goes.
	out=$(mount -t fuse.umm-fs anything "$m" -o "size=16M,socket=$s$MODE_OPT" 2>&1) ||
		fail "mount -t fuse.umm-fs failed: $out"
	expect_mounted "$m" "$s"
	pid=$(daemon_of "$s")
	out=$(fusermount3 -u "$m" 2>&1) || fail "fusermount3 -u $m failed: $out"
	expect_gone "$m" "$s" "$pid"
}

test_fstab_line_mounts_with_its_options() {
	local m=$UMM_TMP/m3 s=$UMM_TMP/s3 tab=$UMM_TMP/fstab out pid
	mkdir "$m"
	on_exit "cleanup_mount '$m' '$s'"
	# As in umm-fs(8): generic options of mount(8) mixed with those of umm-fs.
	printf '# a test fstab\numm-fs  %s  fuse.umm-fs  nosuid,nodev,noauto,nofail,size=16M,socket=%s%s  0 0\n' \
		"$m" "$s" "$MODE_OPT" >"$tab"
	out=$(mount -T "$tab" "$m" 2>&1) || fail "mount -T $tab $m failed: $out"
	expect_mounted "$m" "$s"
	mount_opts_of "$m" | grep -qx nosuid || fail "$m lacks nosuid from the fstab line"
	mount_opts_of "$m" | grep -qx nodev || fail "$m lacks nodev from the fstab line"
	pid=$(daemon_of "$s")
	expect_works "$m"
	out=$(umount "$m" 2>&1) || fail "umount $m failed: $out"
	expect_gone "$m" "$s" "$pid"
}

# bad_mount WANT OPTS: mounting with OPTS fails, the message names WANT,
# and nothing is mounted or left running.
bad_mount() {
	local want=$1 mopts=$2 m=$UMM_TMP/bad s=$UMM_TMP/sbad out
	mkdir -p "$m"
	on_exit "cleanup_mount '$m' '$s'"
	if out=$(mount -t fuse.umm-fs umm-fs "$m" -o "$mopts,socket=$s$MODE_OPT" 2>&1); then
		fail "mount with -o $mopts succeeded"
	fi
	note "mount said: $out"
	grep -qF -- "$want" <<<"$out" || fail "the message does not name '$want': $out"
	expect_eq '' "$(fstype_of "$m")" "what is mounted at $m after the failed mount"
	expect_eq '' "$(daemon_of "$s")" 'umm-fs processes left with that socket'
	[ ! -e "$s" ] || fail "socket $s made by a mount that failed"
}

test_bad_size_fails_the_mount_with_a_message_and_mounts_nothing() {
	bad_mount 'size=12Q: not a SIZE' size=12Q
}

test_unknown_option_fails_the_mount_and_mounts_nothing() {
	bad_mount 'bogus_option' size=16M,bogus_option=1
}

check test_mount_t_fuse_umm_fs_mounts_serves_and_umount_ends_the_daemon
check test_fusermount3_u_unmounts_a_mount_fuse3_mount
check test_fstab_line_mounts_with_its_options
check test_bad_size_fails_the_mount_with_a_message_and_mounts_nothing
check test_unknown_option_fails_the_mount_and_mounts_nothing
finish
