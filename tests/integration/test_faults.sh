#!/bin/bash
# test_faults.sh - faults (SPEC 7): clients killed with SIGKILL in the middle
# of their work leave nothing behind (charges, counters, daemon fds); a full
# budget is ENOSPC with nothing changed and recovers when a buffer goes; a
# daemon killed with SIGKILL leaves every holder of an exported fd or of a
# mapping with its data, its mount answers ENOTCONN, and a new daemon mounts
# cleanly at the same point.
# umm-fs-options: size=8M
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
S=$UMM_TMP/src
mkdir -p "$S"
FS_BIN=${UMM_FS:-${UMM_FS_BINARY:-}}
MiB=1048576

# The value of KEY= in the root's user.umm.stats line.
stat_key() {
	xget "$M" user.umm.stats | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Open fds of the runner's daemon.
daemon_fds() {
	find "/proc/$UMM_FS_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# The charge of every buffer under DIR: sizes rounded up to 4K.
charges_under() {
	local total=0 s
	while read -r s; do
		total=$((total + $(page_round "$s")))
	done < <(find "$1" -type f -printf '%s\n')
	echo "$total"
}

# kill9 PID...: SIGKILL each and reap it (all are children of the check).
kill9() {
	local p
	for p in "$@"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
	done
}

# map_holder OUT PATH ARGS...: start "umm_cli map PATH ARGS" in the
# background, its stdout to OUT; waits for its "ready" line. Pid in holder_pid.
holder_pid=
map_holder() {
	local out=$1
	shift
	"$UMM_CLI" map "$@" >"$out" 2>"$out.err" </dev/null &
	holder_pid=$!
	on_exit "kill -KILL $holder_pid 2>/dev/null; wait $holder_pid 2>/dev/null"
	wait_until 50 "grep -q '^ready' '$out' || ! kill -0 $holder_pid 2>/dev/null" || true
	grep -q '^ready' "$out" || fail "map holder of $1 did not start: $(cat "$out.err")"
}

# read_mapping PID SIZE OUT: copy the shared mapping of SIZE bytes of process
# PID (its only one of that size) to OUT, through /proc/PID/mem: the pages the
# process itself sees.
read_mapping() {
	local pid=$1 size=$2 out=$3 range perms rest start=
	while read -r range perms rest; do
		[ "${perms: -1}" = s ] || continue
		if [ $((16#${range#*-} - 16#${range%-*})) = "$size" ]; then
			start=${range%-*}
			break
		fi
	done <"/proc/$pid/maps"
	[ -n "$start" ] || { echo "no shared mapping of $size bytes in pid $pid" >&2; return 1; }
	dd if="/proc/$pid/mem" of="$out" bs=65536 iflag=skip_bytes,count_bytes \
		skip=$((16#$start)) count="$size" status=none
}

# expect_enotconn CMD...: CMD must fail as on a mount whose daemon is gone:
# ENOTCONN; over io_uring ($dead_transport) the kernel aborts the
# connection's rings, and ECONNABORTED is what the first callers get.
dead_transport=dev_fuse
expect_enotconn() {
	local out
	if out=$("$@" 2>&1 >/dev/null); then
		fail "'$*' succeeded on a dead mount"
	fi
	grep -qF 'Transport endpoint is not connected' <<<"$out" && return 0
	if [ "$dead_transport" = io_uring ] && grep -qF 'Software caused connection abort' <<<"$out"; then
		return 0
	fi
	fail "'$*' failed, but not with ENOTCONN (transport $dead_transport): $out"
}

test_sigkilled_clients_leave_nothing_behind() {
	local d base_fds pids=() p i fifo want
	need_cli
	expect_eq 0 "$(used_bytes "$M")" 'root used_bytes at the start'
	base_fds=$(daemon_fds)
	d=$(newdir killed)
	make_data "$S/half" 600000
	cp "$S/half" "$d/src"
	"$UMM_CLI" export "$d/src" r >/dev/null
	# Writers stopped in the middle of a buffer: dd fed through a fifo that
	# stays open, killed once the buffer holds part of what it was given.
	for i in 1 2 3; do
		fifo=$UMM_TMP/fifo$i
		mkfifo "$fifo"
		dd if="$fifo" of="$d/part$i" bs=4096 status=none &
		pids+=($!)
		exec {fd}>"$fifo"
		head -c $((i * 300000)) /dev/urandom >&"$fd"
		want=$((i * 300000 / 4096 * 4096))
		wait_until 50 "[ \"\$(stat -c %s '$d/part$i' 2>/dev/null)\" -ge $want ]" ||
			fail "writer $i did not write its first bytes"
		kill9 "${pids[-1]}"
		exec {fd}>&-
	done
	# Writers in full flight, killed at once.
	for i in 1 2 3; do
		dd if=/dev/zero of="$d/fly$i" bs=64K count=8 status=none &
		pids+=($!)
	done
	# Holders of a mapping (FUSE fd or exported memfd) and of an exported fd.
	for i in 1 2; do
		make_data "$S/m$i" 200000
		cp "$S/m$i" "$d/m$i"
		cat "$d/m$i" >/dev/null # reading fixes the size: mappable
	done
	map_holder "$UMM_TMP/h1" "$d/m1" auto
	pids+=("$holder_pid")
	map_holder "$UMM_TMP/h2" "$d/m2" export
	pids+=("$holder_pid")
	map_holder "$UMM_TMP/h3" "$d/m2" auto close
	pids+=("$holder_pid")
	# Exports killed at every point of their life.
	for i in $(seq 1 40); do
		"$UMM_CLI" export "$d/src" rw >/dev/null 2>&1 &
		p=$!
		[ $((i % 4)) = 0 ] || sleep 0.0$((i % 10))
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# Unlinked while held, then the holder killed.
	printf 'gone' >"$d/unlinked"
	map_holder "$UMM_TMP/h4" "$d/unlinked" auto
	pids+=("$holder_pid")
	rm "$d/unlinked"
	kill9 "${pids[@]}"
	# Releases are asynchronous: wait for the daemon's fds, then compare.
	wait_until 50 "[ \"\$(daemon_fds)\" -le $((base_fds + $(find "$d" -type f | wc -l))) ]" ||
		fail "daemon fds $(daemon_fds), baseline $base_fds + $(find "$d" -type f | wc -l) buffers"
	want=$(charges_under "$d")
	wait_used "$want"
	expect_eq "$want" "$(used_bytes "$d")" 'dir used_bytes after the kills'
	expect_eq "$want" "$(stat_key used)" 'stats used after the kills'
	expect_eq "$(find "$d" -type f | wc -l)" "$(stat_key buffers)" 'stats buffers after the kills'
	cmp "$S/half" "$d/src" || fail 'a buffer changed'
	cmp "$S/m1" "$d/m1" || fail 'a mapped buffer changed'
	rm -rf "$d"
	wait_used 0
	expect_eq 0 "$(stat_key used)" 'stats used after rm'
	expect_eq 0 "$(stat_key buffers)" 'stats buffers after rm'
	wait_until 50 "[ \"\$(daemon_fds)\" = $base_fds ]" ||
		fail "daemon fds $(daemon_fds) after rm, baseline $base_fds"
	# And it still serves.
	d=$(newdir killed2)
	cp "$S/half" "$d/again"
	cmp "$S/half" "$d/again" || fail 'the daemon serves other bytes'
	expect_eq "600000 r" "$("$UMM_CLI" export "$d/again" r)" 'export after the kills'
	rm -rf "$d"
	wait_used 0
	wait_until 50 "[ \"\$(daemon_fds)\" = $base_fds ]" ||
		fail "daemon fds $(daemon_fds) at the end, baseline $base_fds"
}

test_full_budget_is_enospc_and_recovers() {
	local d i listing stats
	wait_used 0
	d=$(newdir full)
	# A sized dir: a create there takes its 1M at once.
	mkdir "$d/sized"
	xset "$d/sized" user.umm.size 1M
	make_data "$S/1m" "$MiB"
	for i in 1 2 3 4 5 6 7 8; do
		cp "$S/1m" "$d/b$i"
	done
	expect_eq $((8 * MiB)) "$(used_bytes "$M")" 'root used_bytes when full'
	listing=$(ls -lR "$d")
	stats=$(xget "$M" user.umm.stats | tr ' ' '\n' | grep -E '^(buffers|dirs|used)=')
	expect_errno ENOSPC touch "$d/sized/new"
	expect_errno ENOSPC "$UMM_CLI" open "$d/sized/new" w,creat,excl
	expect_errno ENOSPC truncate -s $((MiB + 4096)) "$d/b1"
	expect_errno ENOSPC bash -c "printf x >>'$d/b1'"
	expect_errno ENOSPC dd if="$S/1m" of="$d/b2" bs=64K seek=16 status=none conv=notrunc
	expect_errno ENOSPC fallocate -l $((MiB + 4096)) "$d/b3"
	expect_eq "$listing" "$(ls -lR "$d")" 'listing after the refusals'
	expect_eq "$stats" "$(xget "$M" user.umm.stats | tr ' ' '\n' | grep -E '^(buffers|dirs|used)=')" \
		'stats after the refusals'
	# A new name whose first write is refused stays, empty and charged
	# nothing, as on a full tmpfs.
	expect_errno ENOSPC bash -c "printf x >'$d/empty'"
	expect_eq 0 "$(stat -c %s "$d/empty")" 'size of a name whose write was refused'
	expect_eq $((8 * MiB)) "$(used_bytes "$M")" 'root used_bytes after the refused write'
	rm "$d/empty"
	for i in 1 2 3 4 5 6 7 8; do
		cmp "$S/1m" "$d/b$i" || fail "b$i changed"
	done
	rm "$d/b3"
	wait_used $((7 * MiB))
	touch "$d/sized/new"
	expect_eq "$MiB" "$(stat -c %s "$d/sized/new")" 'size of the buffer created in the sized dir'
	expect_eq $((8 * MiB)) "$(used_bytes "$M")" 'root used_bytes full again'
	expect_errno ENOSPC cp "$S/1m" "$d/b3"
	rm -f "$d/b3"
	rm "$d/b4"
	wait_used $((7 * MiB))
	cp "$S/1m" "$d/b3"
	cmp "$S/1m" "$d/b3" || fail 'the new buffer differs'
	rm -rf "$d"
	wait_used 0
}

# The daemon out of fds (its RLIMIT_NOFILE lowered from outside with
# prlimit, as a full fd table would be): creating a buffer fails cleanly with
# ENOSPC, nothing else breaks, and creates work again once buffers go.
test_daemon_out_of_fds_refuses_creates_cleanly() {
	local d i n=0 base limits soft hard err=$UMM_TMP/fds.err
	command -v prlimit >/dev/null || skip 'prlimit (util-linux) is not installed'
	d=$(newdir fds)
	xset "$d" user.umm.size 4K
	base=$(daemon_fds)
	limits=$(prlimit --pid "$UMM_FS_PID" --nofile -o SOFT,HARD --noheadings) ||
		fail 'cannot read the daemon fd limit'
	read -r soft hard <<<"$limits"
	note "umm-fs: $base fds open, limit $soft (hard $hard): lowered to $((base + 16))"
	on_exit "prlimit --pid $UMM_FS_PID --nofile=$soft:$hard"
	prlimit --pid "$UMM_FS_PID" --nofile=$((base + 16)):"$hard"
	for i in $(seq 1 200); do
		{ : >"$d/b$i"; } 2>"$err" || break
		n=$i
	done
	prlimit --pid "$UMM_FS_PID" --nofile="$soft:$hard"
	note "$n buffers made before the limit"
	[ "$n" -lt 200 ] || fail "200 buffers made under a limit of $((base + 16)) fds"
	[ "$n" -gt 0 ] || fail 'no buffer at all under the lowered limit'
	grep -q "$(errmsg ENOSPC)" "$err" || fail "the create at the limit failed otherwise: $(cat "$err")"
	kill -0 "$UMM_FS_PID" || fail 'the daemon died'
	[ ! -e "$d/b$((n + 1))" ] || fail 'the refused buffer exists'
	expect_eq $((n * 4096)) "$(used_bytes "$d")" 'used_bytes: the buffers made, no more'
	expect_eq 4096 "$(stat -c %s "$d/b1")" 'an earlier buffer'
	rm -f "$d"/b*
	wait_until 50 "[ \$(daemon_fds) -le $base ]" || fail "daemon fds $(daemon_fds), $base before"
	: >"$d/again" || fail 'no create after the buffers went'
	rm -f "$d/again"
}

test_daemon_sigkill_leaves_holders_their_data() {
	local m2=$UMM_TMP/m2 s2=$UMM_TMP/s2 opts size=$((777 * 4096)) fs_pid fs2_pid
	local h_map h_exp h_only fd out
	need_cli
	[ -x "$FS_BIN" ] || fail 'UMM_FS (the daemon binary) is not set'
	opts=socket=$s2
	[ "$UMM_MODE" = nopassthrough ] && opts=$opts,nopassthrough
	mkdir -p "$m2"
	# Unmount the second mount however the check ends, then end its daemons.
	on_exit "is_mounted '$m2' && { fusermount3 -u '$m2' 2>/dev/null || umount -l '$m2' 2>/dev/null; }"
	start_fs2() {
		"$FS_BIN" -f "$m2" -o "$opts" >>"$UMM_TMP/fs2.log" 2>&1 </dev/null &
		fs_pid=$!
		on_exit "kill -KILL $fs_pid 2>/dev/null; wait $fs_pid 2>/dev/null"
		wait_until 100 "is_mounted '$m2' || ! kill -0 $fs_pid 2>/dev/null" || true
		is_mounted "$m2" || fail "second umm-fs did not mount: $(cat "$UMM_TMP/fs2.log")"
		wait_until 20 "[ -S '$s2' ]" || fail 'no export socket on the second mount'
	}
	start_fs2
	fs2_pid=$fs_pid
	make_data "$S/pat" "$size"
	cp "$S/pat" "$m2/b"
	cat "$m2/b" >/dev/null # reading fixes the size: mappable
	# A mapping of the buffer (the FUSE fd with passthrough, else the
	# exported memfd), an exported fd with its mapping, a mapping alone.
	map_holder "$UMM_TMP/d1" "$m2/b" auto
	h_map=$holder_pid
	if [ "$UMM_MODE" = passthrough ] && [ "${UMM_BUILD_PASSTHROUGH:-1}" = 1 ]; then
		grep -q '^ready fuse ' "$UMM_TMP/d1" || fail "passthrough mapping not of the FUSE fd: $(cat "$UMM_TMP/d1")"
	fi
	map_holder "$UMM_TMP/d2" "$m2/b" export
	h_exp=$holder_pid
	fd=$(awk '{ print $3 }' "$UMM_TMP/d2")
	map_holder "$UMM_TMP/d3" "$m2/b" auto close
	h_only=$holder_pid
	for p in $h_map $h_exp $h_only; do
		read_mapping "$p" "$size" "$UMM_TMP/before.$p"
		cmp "$S/pat" "$UMM_TMP/before.$p" || fail "holder $p maps other bytes before the kill"
	done

	dead_transport=$(xget "$m2" user.umm.stats | tr ' ' '\n' | sed -n 's/^transport=//p')
	kill -KILL "$fs2_pid"
	wait "$fs2_pid" 2>/dev/null || true
	expect_enotconn stat "$m2"
	expect_enotconn stat "$m2/b"
	expect_enotconn cat "$m2/b"
	for p in $h_map $h_exp $h_only; do
		kill -0 "$p" || fail "holder $p died with the daemon"
		out=$UMM_TMP/after.$p
		read_mapping "$p" "$size" "$out" || fail "cannot read the mapping of holder $p"
		cmp "$S/pat" "$out" || fail "holder $p ($(cat "$UMM_TMP/d1")) maps other bytes after the daemon died"
	done
	cmp "$S/pat" "/proc/$h_exp/fd/$fd" || fail 'the exported fd reads other bytes after the daemon died'

	# The dead mount goes, a new daemon mounts at the same point and serves.
	fusermount3 -u "$m2" 2>/dev/null || umount -l "$m2"
	! is_mounted "$m2" || fail 'the dead mount is still there'
	start_fs2
	expect_eq '' "$(ls -A "$m2")" 'the new mount is empty'
	cp "$S/pat" "$m2/c"
	cmp "$S/pat" "$m2/c" || fail 'the new daemon reads other bytes'
	expect_eq "$size r" "$("$UMM_CLI" export "$m2/c" r)" 'export on the new mount'
	expect_eq "$size" "$(used_bytes "$m2")" 'used_bytes of the new mount'
	for p in $h_map $h_exp $h_only; do
		read_mapping "$p" "$size" "$UMM_TMP/late.$p"
		cmp "$S/pat" "$UMM_TMP/late.$p" || fail "holder $p lost its bytes after the remount"
	done
	kill9 "$h_map" "$h_exp" "$h_only"
	rm "$m2/c"
	fusermount3 -u "$m2"
	wait_until 50 "! kill -0 $fs_pid 2>/dev/null" || fail 'the new daemon did not leave after the unmount'
}

check test_sigkilled_clients_leave_nothing_behind
check test_full_budget_is_enospc_and_recovers
check test_daemon_out_of_fds_refuses_creates_cleanly
check test_daemon_sigkill_leaves_holders_their_data
finish
