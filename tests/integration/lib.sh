# lib.sh - helpers for the shell integration tests (sourced, not run).
# shellcheck shell=bash disable=SC2317
#
# A test script sets "set -euo pipefail", sources this file, defines one
# function per behaviour and runs each with
#     check test_name_that_says_the_behaviour
# then ends with "finish". Each check runs in a subshell with errexit on, so a
# failing command fails that check only. Inside a check:
#     fail "message"            fail the check with a message
#     skip "why"                skip the check (the machine lacks a feature)
#     expect_errno ENOSPC cmd   cmd must fail, and its stderr must name ENOSPC
#     expect_eq WANT GOT what   compare two strings
#     xget PATH NAME            print an xattr's value (no trailing newline)
#     xset PATH NAME VALUE      set an xattr (setfattr)
#
# The runner (run-mounted.sh) provides UMM_MNT, UMM_MODE, UMM_TMP,
# UMM_FS_PID, UMM_SOCK and UMM_FS_BINARY; meson adds UMM_CLI (the helper
# program built from umm_cli.c) to the environment.

: "${UMM_MNT:?UMM_MNT is not set: run this test through run-mounted.sh}"
: "${UMM_TMP:?UMM_TMP is not set: run this test through run-mounted.sh}"
: "${UMM_MODE:=passthrough}"
: "${UMM_CLI:=}"

_npass=0
_nfail=0
_nskip=0
_failed=()
_cleanups=()

# Run "$@" at exit (last registered first).
on_exit() {
	_cleanups+=("$*")
}

_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[i]}" || true
	done
	_cleanups=()
}
trap _run_cleanups EXIT

fail() {
	printf '    FAIL: %s\n' "$*" >&2
	exit 1
}

skip() {
	printf '    SKIP: %s\n' "$*" >&2
	exit 77
}

note() {
	printf '    %s\n' "$*" >&2
}

# check FUNC: run one behaviour check in a subshell with errexit.
check() {
	local name=$1 rc
	printf -- '--- %s\n' "$name"
	set +e
	(
		set -euo pipefail
		_cleanups=()
		trap _run_cleanups EXIT
		"$name"
	)
	rc=$?
	set -e
	case $rc in
	0)
		printf 'ok   %s\n' "$name"
		_npass=$((_npass + 1))
		;;
	77)
		printf 'skip %s\n' "$name"
		_nskip=$((_nskip + 1))
		;;
	*)
		printf 'FAIL %s (status %s)\n' "$name" "$rc"
		_nfail=$((_nfail + 1))
		_failed+=("$name")
		;;
	esac
}

finish() {
	printf '=== %s: %d passed, %d failed, %d skipped (mode %s)\n' \
		"$(basename "$0")" "$_npass" "$_nfail" "$_nskip" "$UMM_MODE"
	if [ "$_nfail" -gt 0 ]; then
		printf '=== failed: %s\n' "${_failed[*]}"
		exit 1
	fi
	if [ "$_npass" -eq 0 ] && [ "$_nskip" -gt 0 ]; then
		exit 77
	fi
	exit 0
}

# The strerror() text of an errno name, as tools print it.
errmsg() {
	case $1 in
	EPERM) echo 'Operation not permitted' ;;
	ENOENT) echo 'No such file or directory' ;;
	EACCES) echo 'Permission denied' ;;
	EEXIST) echo 'File exists' ;;
	EXDEV) echo 'Invalid cross-device link' ;;
	ENOTDIR) echo 'Not a directory' ;;
	EISDIR) echo 'Is a directory' ;;
	EINVAL) echo 'Invalid argument' ;;
	EFBIG) echo 'File too large' ;;
	ENOSPC) echo 'No space left on device' ;;
	EBUSY) echo 'Device or resource busy' ;;
	ERANGE) echo 'Numerical result out of range' ;;
	E2BIG) echo 'Argument list too long' ;;
	ENOTEMPTY) echo 'Directory not empty' ;;
	ENODATA) printf '%s\n' 'No data available' 'No such attribute' ;;
	EOPNOTSUPP) echo 'Operation not supported' ;;
	ENAMETOOLONG) echo 'File name too long' ;;
	EDQUOT) echo 'Disk quota exceeded' ;;
	*) echo "unknown errno name $1" ;;
	esac
}

# expect_errno ERRNO[|ERRNO...] CMD...: CMD must fail and print one of the
# errno texts on stderr.
expect_errno() {
	local want=$1 out rc e alt
	shift
	set +e
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	set -e
	if [ $rc = 0 ]; then
		fail "'$*' succeeded; expected $want"
	fi
	IFS='|' read -ra alt <<<"$want"
	for e in "${alt[@]}"; do
		if grep -qF -- "$(errmsg "$e")" <<<"$out"; then
			return 0
		fi
	done
	fail "'$*' failed as expected but not with $want: $out"
}

# expect_ok CMD...: CMD must succeed (its stderr is shown if it does not).
expect_ok() {
	local out rc
	set +e
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	set -e
	[ $rc = 0 ] || fail "'$*' failed (status $rc): $out"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# xget PATH NAME: the raw value (text), without a trailing newline. On
# failure it prints a marker instead, so that a comparison with an expected
# value (even an empty one) fails: $(xget ...) as an argument cannot stop
# the check by itself.
xget() {
	local v
	if ! v=$(getfattr --absolute-names --only-values -n "$2" -- "$1"); then
		printf '<getfattr -n %s %s failed>' "$2" "$1"
		return 1
	fi
	printf '%s' "$v"
}

# xget_hex PATH NAME: the value as 0x... hex, as getfattr -e hex prints it.
xget_hex() {
	getfattr --absolute-names -e hex -n "$2" -- "$1" | sed -n "s/^$2=//p"
}

xset() {
	setfattr -n "$2" -v "$3" -- "$1"
}

# One key of user.umm.effective: effective_key PATH KEY
effective_key() {
	xget "$1" user.umm.effective | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# to_bytes SIZE: a size as the daemon prints it (4096, 4K, 8M, ...) in bytes.
to_bytes() {
	local v=$1 n
	case $v in
	*[kK]) n=$((${v%?} * 1024)) ;;
	*[mM]) n=$((${v%?} * 1024 * 1024)) ;;
	*[gG]) n=$((${v%?} * 1024 * 1024 * 1024)) ;;
	*[tT]) n=$((${v%?} * 1024 * 1024 * 1024 * 1024)) ;;
	*) n=$((v)) ;;
	esac
	echo "$n"
}

# used_bytes DIR: user.umm.used_bytes in bytes.
used_bytes() {
	to_bytes "$(xget "$1" user.umm.used_bytes)"
}

# make_data FILE BYTES: a file of random bytes in the scratch dir.
make_data() {
	head -c "$2" /dev/urandom >"$1"
}

# Round up to the page size (4 KiB).
page_round() {
	echo $((($1 + 4095) / 4096 * 4096))
}

# run_as UID CMD...: run CMD as uid/gid UID with no supplementary groups.
run_as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# mount_tmpfs DIR [OPTS]: mount a real tmpfs to compare behaviours with;
# unmounted at exit.
mount_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "${2:-size=64M}" umm-test-tmpfs "$1" || return 1
	on_exit "umount -l '$1' 2>/dev/null"
}

# How many times longer than usual a test waits: UMM_TIME_SCALE (a positive
# integer), else 10 when UMM_FS_WRAPPER runs the daemon under valgrind (it
# answers about ten times slower), else 1.
time_scale() {
	case ${UMM_TIME_SCALE:-} in
	'' | *[!0-9]* | 0) ;;
	*)
		echo "$UMM_TIME_SCALE"
		return
		;;
	esac
	case ${UMM_FS_WRAPPER:-} in
	*valgrind*) echo 10 ;;
	*) echo 1 ;;
	esac
}

# Wait (up to $1 tenths of a second, times time_scale) until "eval $2" succeeds.
# is_mounted DIR: exactly DIR in /proc/mounts.
is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# start_own_fs MNT SOCK [OPTS]: a umm-fs of the check's own ($UMM_FS) on MNT,
# its export socket SOCK, in this run's mode, with OPTS added; its output
# appended to MNT.log. Waits until it is mounted and its socket is there;
# unmounted and ended however the check ends. Its pid in own_fs_pid.
own_fs_pid=
start_own_fs() {
	local mnt=$1 sock=$2 opts=socket=$2${3:+,$3} bin=${UMM_FS:-${UMM_FS_BINARY:-}}
	[ -x "$bin" ] || fail 'UMM_FS (the daemon binary) is not set'
	[ "$UMM_MODE" = nopassthrough ] && opts=$opts,nopassthrough
	mkdir -p "$mnt"
	"$bin" -f "$mnt" -o "$opts" >>"$mnt.log" 2>&1 </dev/null &
	own_fs_pid=$!
	# cleanups run last first: the unmount, then the end of the daemon
	on_exit "kill -KILL $own_fs_pid 2>/dev/null; wait $own_fs_pid 2>/dev/null"
	on_exit "is_mounted '$mnt' && { fusermount3 -u '$mnt' 2>/dev/null || umount -l '$mnt' 2>/dev/null; }"
	wait_until 100 "is_mounted '$mnt' || ! kill -0 $own_fs_pid 2>/dev/null" || true
	is_mounted "$mnt" || fail "umm-fs -o $opts did not mount on $mnt: $(cat "$mnt.log")"
	wait_until 50 "[ -S '$sock' ]" || fail "no export socket $sock"
}

wait_until() {
	local n=0 max
	max=$(($1 * $(time_scale)))
	while ! eval "$2"; do
		[ $n -ge "$max" ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# Does the machine have free 2 MiB huge pages (for hugetlb memfd)?
have_hugepages() {
	local free
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	[ "${free:-0}" -gt 0 ]
}

# need_cli: the helper program must be there (meson passes it as UMM_CLI).
need_cli() {
	if [ -z "$UMM_CLI" ] || [ ! -x "$UMM_CLI" ]; then
		fail 'UMM_CLI (the umm_cli helper) is not set'
	fi
}

# Wait until the root's used_bytes is $1 again (releases are asynchronous).
wait_used() {
	wait_until 30 "[ \"\$(used_bytes '$UMM_MNT')\" = '$1' ]" ||
		fail "root used_bytes is $(used_bytes "$UMM_MNT"), expected $1"
}

# hold FILE REDIR: start a background shell that keeps FILE open (REDIR is
# "<" to read, ">>" to append) until killed; its pid goes to held_pid. It is
# killed at the end of the check in any case.
held_pid=
hold() {
	local f=$1 redir=$2 ready=$UMM_TMP/ready.$RANDOM
	# shellcheck disable=SC2016
	bash -c 'exec 3'"$redir"'"$1" || exit 1; : >"$2"; exec sleep 300' holder "$f" "$ready" \
		</dev/null >/dev/null 2>&1 &
	held_pid=$!
	on_exit "kill $held_pid 2>/dev/null; wait $held_pid 2>/dev/null"
	wait_until 50 "[ -e '$ready' ]" || fail "holder of $f did not start"
	rm -f "$ready"
}

unhold() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# A fresh directory of the mount for one check.
newdir() {
	local d
	d=$UMM_MNT/$1
	mkdir "$d"
	printf '%s' "$d"
}
