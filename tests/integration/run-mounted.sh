#!/bin/bash
# run-mounted.sh - run one integration test against a freshly mounted umm-fs.
#
# Usage: run-mounted.sh UMM_FS_BINARY MODE SCRIPT_OR_BINARY [ARGS...]
#
# MODE is "passthrough" or "nopassthrough" (the latter adds -o nopassthrough).
# The runner makes a temp dir, mounts
#     umm-fs -f TMP/mnt -o socket=TMP/sock[,nopassthrough][,EXTRA]
# in the background, waits (10 s at most) for the mount to show in
# /proc/mounts, then runs the test with
#     UMM_MNT=TMP/mnt UMM_MODE=MODE UMM_FS_PID=<daemon pid>
#     UMM_TMP=TMP (a scratch dir of the test's own, outside the mount)
#     UMM_FS_BINARY=<the daemon binary> UMM_SOCK=TMP/sock
#     UMM_FS_LOG=TMP/umm-fs.log (the daemon's stderr: a line per refusal)
# in the environment, and passes the test's exit status through (77 = skip).
#
# UMM_FS_WRAPPER runs the daemon under a tool such as valgrind (see below).
#
# EXTRA mount options come from the environment variable UMM_FS_OPTIONS and,
# for a script, from a line "# umm-fs-options: OPTS" near its top. A line
# "# umm-hugepages: N" reserves N more 2 MiB huge pages (vm.nr_hugepages)
# before mounting and puts the old count back afterwards; where the kernel
# cannot give them, the test is skipped (77).
#
# The test fails, whatever its own status, when the daemon died during it
# (a crash) or did not leave after the unmount. The daemon's stderr is
# printed whenever the result is a failure.
#
# Cleanup (always, by trap): unmount every mount under TMP (umm-fs first,
# fusermount3 -u, falling back to a lazy unmount), end the recorded daemon pid
# and nothing else, remove TMP.
#
# Exit 77 (skip) when not root or when /dev/fuse is missing.

# cleanup() and on_signal() run from traps.
# shellcheck disable=SC2317
set -uo pipefail

me=run-mounted
say() { printf '%s: %s\n' "$me" "$*" >&2; }

if [ $# -lt 3 ]; then
	say "usage: run-mounted.sh UMM_FS_BINARY MODE SCRIPT_OR_BINARY [ARGS...]"
	exit 2
fi

fs_bin=$1
mode=$2
test_prog=$3
shift 3

case "$mode" in
passthrough | nopassthrough) ;;
*)
	say "MODE must be passthrough or nopassthrough, not '$mode'"
	exit 2
	;;
esac

if [ "$(id -u)" != 0 ]; then
	say "SKIP: integration tests need root (FUSE mount with allow_other, second uid, pagemap PFNs)"
	exit 77
fi
if [ ! -c /dev/fuse ]; then
	say "SKIP: no /dev/fuse on this machine"
	exit 77
fi
if [ ! -x "$fs_bin" ]; then
	say "daemon binary '$fs_bin' is missing or not executable"
	exit 1
fi
if [ ! -e "$test_prog" ]; then
	say "test '$test_prog' does not exist"
	exit 1
fi

fs_bin=$(readlink -f "$fs_bin")
test_prog=$(readlink -f "$test_prog")

# Under /tmp, not $TMPDIR: the second uid (nobody) of some tests must reach it.
tmp=$(mktemp -d /tmp/umm-it.XXXXXX) || exit 1
mnt=$tmp/mnt
sock=$tmp/sock
log=$tmp/umm-fs.log
mkdir "$mnt" "$tmp/scratch"
# Tests run commands as a second uid (nobody): it must reach the mount and the
# scratch dir.
chmod 0755 "$tmp"
chmod 1777 "$tmp/scratch"

fs_pid=
fs_status=
test_pid=
fuse_conn=
show_log=0

# Is $1 mounted (exactly that path) according to /proc/mounts?
is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# Every mount point at or below $tmp, deepest first.
mounts_under_tmp() {
	awk -v t="$tmp" 'index($2, t "/") == 1 || $2 == t { print $2 }' /proc/mounts |
		sort -r | uniq
}

daemon_alive() {
	[ -n "$fs_pid" ] || return 1
	[ -e "/proc/$fs_pid" ] || return 1
	# A zombie is dead, whatever kill -0 says.
	local state
	state=$(awk '{ print $3 }' "/proc/$fs_pid/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

# Wait (up to $1 tenths of a second) for the daemon to exit; sets fs_status.
wait_daemon() {
	local n=0
	while daemon_alive && [ $n -lt "$1" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if daemon_alive; then
		return 1
	fi
	if [ -z "$fs_status" ]; then
		wait "$fs_pid" 2>/dev/null
		fs_status=$?
	fi
	return 0
}

cleanup_done=0
cleanup() {
	[ "$cleanup_done" = 1 ] && return
	cleanup_done=1
	local m
	if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
		say "ending the test process (pid $test_pid)"
		kill -TERM "$test_pid" 2>/dev/null
		sleep 0.5
		kill -KILL "$test_pid" 2>/dev/null
	fi
	if is_mounted "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null ||
			fusermount3 -u -z "$mnt" 2>/dev/null ||
			umount -l "$mnt" 2>/dev/null
	fi
	for m in $(mounts_under_tmp); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if [ -n "$fs_pid" ] && ! wait_daemon 50; then
		say "daemon (pid $fs_pid) did not exit after the unmount; sending SIGTERM"
		kill -TERM "$fs_pid" 2>/dev/null
		if ! wait_daemon 20; then
			kill -KILL "$fs_pid" 2>/dev/null
			if ! wait_daemon 20 && [ -n "$fuse_conn" ] &&
				[ -w "/sys/fs/fuse/connections/$fuse_conn/abort" ]; then
				# A daemon thread stuck in a request to its own mount:
				# abort that connection (ours only) so it can exit.
				say "daemon stuck after SIGKILL; aborting FUSE connection $fuse_conn"
				echo 1 >"/sys/fs/fuse/connections/$fuse_conn/abort"
				wait_daemon 20
			fi
		fi
	fi
	if [ -n "$huge_saved" ]; then
		echo "$huge_saved" >"$huge_file" 2>/dev/null ||
			say "could not put vm.nr_hugepages back to $huge_saved"
	fi
	if [ "$show_log" = 1 ] && [ -s "$log" ]; then
		say "---- umm-fs stderr ($log) ----"
		cat "$log" >&2
		say "---- end of umm-fs stderr ----"
	fi
	rm -rf --one-file-system "$tmp"
}

on_signal() {
	say "interrupted by signal; cleaning up"
	show_log=1
	exit 1
}

huge_file=/proc/sys/vm/nr_hugepages
huge_saved=
trap cleanup EXIT
trap on_signal INT TERM HUP

# Huge pages the test asks for, reserved before the daemon probes its heaps.
huge_want=$(head -c 4096 "$test_prog" 2>/dev/null | grep -a -m1 '^# umm-hugepages:' |
	sed 's/^# umm-hugepages:[[:space:]]*//; s/[[:space:]]*$//')
if [ -n "$huge_want" ]; then
	if [ ! -w "$huge_file" ]; then
		say "SKIP: $huge_file is not writable: cannot reserve huge pages"
		exit 77
	fi
	huge_saved=$(cat "$huge_file")
	huge_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	echo $((huge_saved + huge_want)) >"$huge_file" 2>/dev/null
	huge_got=$(($(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo) - huge_free))
	if [ "$huge_got" -lt "$huge_want" ]; then
		say "SKIP: the kernel gave $huge_got of $huge_want huge pages asked for"
		exit 77
	fi
	say "reserved $huge_want huge pages (vm.nr_hugepages $huge_saved -> $((huge_saved + huge_want)))"
fi

# Mount options.
opts="socket=$sock"
[ "$mode" = nopassthrough ] && opts="$opts,nopassthrough"
extra=${UMM_FS_OPTIONS:-}
if head -c 4096 "$test_prog" 2>/dev/null | grep -qa '^# umm-fs-options:'; then
	script_opts=$(head -c 4096 "$test_prog" | grep -a -m1 '^# umm-fs-options:' |
		sed 's/^# umm-fs-options:[[:space:]]*//; s/[[:space:]]*$//')
	[ -n "$script_opts" ] && extra=${extra:+$extra,}$script_opts
fi
[ -n "$extra" ] && opts="$opts,$extra"

# UMM_FS_WRAPPER (words, such as "valgrind --error-exitcode=99 -q") runs the
# daemon under a tool; it then gets longer to mount and to leave, and any
# exit status but 0 after the unmount fails the test (the tool's verdict).
read -ra wrapper <<<"${UMM_FS_WRAPPER:-}"
slow=1
[ ${#wrapper[@]} -gt 0 ] && slow=6
say "mounting: ${wrapper[*]}${wrapper[*]:+ }$fs_bin -f $mnt -o $opts"
"${wrapper[@]}" "$fs_bin" -f "$mnt" -o "$opts" >"$log" 2>&1 </dev/null &
fs_pid=$!

# Wait for the mount (10 s).
n=0
until is_mounted "$mnt"; do
	if ! daemon_alive; then
		wait_daemon 0
		say "FAIL: umm-fs exited (status $fs_status) before the mount appeared"
		show_log=1
		exit 1
	fi
	if [ $n -ge $((100 * slow)) ]; then
		say "FAIL: $mnt did not appear in /proc/mounts within $((10 * slow)) s"
		show_log=1
		exit 1
	fi
	sleep 0.1
	n=$((n + 1))
done
# The FUSE connection of this mount (its minor device number), to abort it
# in cleanup should the daemon get stuck.
fuse_conn=$(awk -v m="$mnt" '$5 == m { split($3, d, ":"); print d[2]; exit }' \
	/proc/self/mountinfo)

# Wait (2 s at most) for the export socket as well; the test decides
# whether its absence matters.
n=0
while [ ! -S "$sock" ] && [ $n -lt 20 ]; do
	sleep 0.1
	n=$((n + 1))
done

say "mounted at $mnt (umm-fs pid $fs_pid, mode $mode); running $(basename "$test_prog") $*"

if [ -x "$test_prog" ]; then
	cmd=("$test_prog" "$@")
else
	cmd=(bash "$test_prog" "$@")
fi
# The test runs in its own dir so that stray files never land in the mount.
(
	cd "$tmp/scratch" &&
		UMM_MNT=$mnt UMM_MODE=$mode UMM_FS_PID=$fs_pid UMM_TMP=$tmp/scratch \
			UMM_FS_BINARY=$fs_bin UMM_SOCK=$sock UMM_FS_LOG=$log exec "${cmd[@]}"
) &
test_pid=$!
# wait (not a foreground child) so that INT/TERM are handled at once.
wait "$test_pid"
status=$?
test_pid=

if ! daemon_alive; then
	wait_daemon 0
	say "FAIL: umm-fs (pid $fs_pid) died during the test (exit status $fs_status)"
	status=1
elif ! is_mounted "$mnt"; then
	say "FAIL: $mnt is no longer mounted after the test"
	status=1
else
	# A clean unmount must make the daemon leave on its own.
	fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null
	if is_mounted "$mnt"; then
		say "note: $mnt busy at unmount (a test process still holds it?); lazy unmount"
		fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	if ! wait_daemon $((50 * slow)); then
		say "FAIL: umm-fs (pid $fs_pid) still running $((5 * slow)) s after the unmount"
		[ $status = 77 ] || [ $status = 0 ] && status=1
	elif [ "$fs_status" -gt 128 ]; then
		say "FAIL: umm-fs was killed by signal $((fs_status - 128)) after the unmount"
		status=1
	elif [ "$fs_status" != 0 ] && [ ${#wrapper[@]} -gt 0 ]; then
		say "FAIL: ${wrapper[0]} ended umm-fs with status $fs_status after the unmount"
		show_log=1
		status=1
	elif [ "$fs_status" != 0 ]; then
		say "note: umm-fs exited with status $fs_status after the unmount"
	fi
fi

case $status in
0) say "PASS ($mode)" ;;
77) say "SKIP ($mode)" ;;
*)
	say "FAIL ($mode): exit status $status"
	show_log=1
	;;
esac
exit $status
