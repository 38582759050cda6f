#!/bin/bash
# test_hostile.sh - hostile input, table-driven (issue 6, item 3): bad xattr
# values, names at and past the limits, sizes past every budget, a second uid
# against another's buffers. Every row must get its error, change nothing (a
# victim buffer's content, the accounting, the directory's constraints), and
# leave the daemon serving. The export socket's hostile messages are in
# test_perm.c.
# umm-fs-options: size=64M,user_size=8M,nr_buffers=64
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
NOBODY=65534

# The fixture: a directory with constraints, a secret 0600 buffer of root's,
# a sticky shared directory with a buffer of root's, and their fingerprints.
D=$M/h
SHARED=$M/shared
VICTIM=$D/victim
mkdir "$D" "$SHARED"
chmod 0755 "$D"
chmod 1777 "$SHARED"
xset "$D" user.umm.max_bytes 6M
xset "$D" user.umm.align 4K
make_data "$UMM_TMP/secret" 65536
cp "$UMM_TMP/secret" "$VICTIM"
chmod 0600 "$VICTIM"
cp "$UMM_TMP/secret" "$SHARED/roots"
chmod 0644 "$SHARED/roots"

fingerprint() {
	printf '%s|%s|%s|%s|%s|%s\n' "$(md5sum <"$VICTIM")" "$(stat -c '%s %a %u %g' "$VICTIM")" \
		"$(xget "$D" user.umm.effective)" "$(used_bytes "$M")" "$(ls -A "$SHARED" | tr '\n' ' ')" \
		"$(md5sum <"$SHARED/roots")"
}
BEFORE=$(fingerprint)

# After each row: the daemon lives, serves a new buffer, and nothing changed.
still_serving() {
	local what=$1 probe=$M/probe
	kill -0 "$UMM_FS_PID" 2>/dev/null || fail "$what: the daemon died"
	printf 'ok' >"$probe" || fail "$what: the daemon no longer creates buffers"
	expect_eq ok "$(cat "$probe")" "$what: the daemon no longer reads back"
	rm -f "$probe"
	wait_used "$(echo "$BEFORE" | cut -d'|' -f4)"
	expect_eq "$BEFORE" "$(fingerprint)" "$what: something changed"
}

# A value of N bytes of character C.
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# Rows: ERRNO|WHO|what|command... (WHO: root or nobody). The command runs with
# bash -c, the fixture's variables exported.
export D SHARED VICTIM M
LONG64K=$(rep 1 65536)
LONG64K1=$(rep 1 65537)
NAME255=$(rep n 255)
NAME256=$(rep n 256)
NONUTF8=$(printf '8\377M')
export LONG64K LONG64K1 NAME255 NAME256 NONUTF8

run_rows() {
	local row errno who what cmd n=0
	while IFS='|' read -r errno who what cmd; do
		[[ -z $errno || $errno == \#* ]] && continue
		n=$((n + 1))
		if [[ $errno == OK ]]; then
			if [[ $who == nobody ]]; then
				run_as "$NOBODY" bash -c "$cmd" >/dev/null 2>&1 ||
					fail "$what: should work (as $who)"
			else
				bash -c "$cmd" >/dev/null 2>&1 || fail "$what: should work"
			fi
			note "$(printf '%-58s -> works' "$what")"
			continue
		fi
		if [[ $who == nobody ]]; then
			expect_errno "$errno" run_as "$NOBODY" bash -c "$cmd"
		else
			expect_errno "$errno" bash -c "$cmd"
		fi
		note "$(printf '%-58s -> %s' "$what" "$errno")"
		still_serving "$what"
	done
	[[ $n -gt 0 ]] || fail "no rows"
}

test_bad_constraint_values_are_einval_and_change_nothing() {
	run_rows <<'EOF'
EINVAL|root|size: empty|setfattr -n user.umm.size -v '' "$D"
EINVAL|root|size: 64 KiB of digits|setfattr -n user.umm.size -v "$LONG64K" "$D"
E2BIG|root|size: 64 KiB + 1 (the kernel's limit)|setfattr -n user.umm.size -v "$LONG64K1" "$D"
EINVAL|root|size: not UTF-8|setfattr -n user.umm.size -v "$NONUTF8" "$D"
EINVAL|root|size: negative|setfattr -n user.umm.size -v -4K "$D"
EINVAL|root|size: overflowing 99999999999999999999G|setfattr -n user.umm.size -v 99999999999999999999G "$D"
EINVAL|root|size: overflowing 17179869184G|setfattr -n user.umm.size -v 17179869184G "$D"
EINVAL|root|size: wrong unit 8Q|setfattr -n user.umm.size -v 8Q "$D"
EINVAL|root|size: wrong unit 8MB|setfattr -n user.umm.size -v 8MB "$D"
EINVAL|root|size: space inside 8 M|setfattr -n user.umm.size -v '8 M' "$D"
EINVAL|root|size: hex 0x1000|setfattr -n user.umm.size -v 0x1000 "$D"
EINVAL|root|align: not a power of two|setfattr -n user.umm.align -v 12K "$D"
EINVAL|root|align: below the page size|setfattr -n user.umm.align -v 512 "$D"
EINVAL|root|align: above 1G|setfattr -n user.umm.align -v 2G "$D"
EINVAL|root|align: negative|setfattr -n user.umm.align -v -4K "$D"
EINVAL|root|contiguous: 2|setfattr -n user.umm.contiguous -v 2 "$D"
EINVAL|root|contiguous: empty|setfattr -n user.umm.contiguous -v '' "$D"
EINVAL|root|contiguous: -1|setfattr -n user.umm.contiguous -v -1 "$D"
EINVAL|root|cache: unknown mode|setfattr -n user.umm.cache -v fast "$D"
EINVAL|root|cache: not UTF-8|setfattr -n user.umm.cache -v "$NONUTF8" "$D"
EINVAL|root|heap: upper case|setfattr -n user.umm.heap -v MEMFD "$D"
EINVAL|root|heap: 64 KiB long|setfattr -n user.umm.heap -v "$LONG64K" "$D"
EINVAL|root|heap: empty|setfattr -n user.umm.heap -v '' "$D"
EINVAL|root|devices: relative path|setfattr -n user.umm.devices -v dev/dri/card0 "$D"
EINVAL|root|devices: 64 KiB long|setfattr -n user.umm.devices -v "/${LONG64K:1}" "$D"
EINVAL|root|devices: not UTF-8|setfattr -n user.umm.devices -v "/dev/$NONUTF8" "$D"
EINVAL|root|devices: no such device|setfattr -n user.umm.devices -v /dev/no-such-device "$D"
EOPNOTSUPP|root|devices: not a DRM device|setfattr -n user.umm.devices -v /dev/null "$D"
EINVAL|root|max_bytes: negative|setfattr -n user.umm.max_bytes -v -1 "$D"
EINVAL|root|max_bytes: overflowing|setfattr -n user.umm.max_bytes -v 99999999999999999999G "$D"
EBUSY|root|max_bytes: below what is used|setfattr -n user.umm.max_bytes -v 4K "$D"
EINVAL|root|unknown user.umm. name|setfattr -n user.umm.colour -v red "$D"
EPERM|root|read-only user.umm.effective|setfattr -n user.umm.effective -v size=1M "$D"
EOPNOTSUPP|root|trusted. namespace|setfattr -n trusted.x -v 1 "$D"
EOF
}

test_bad_buffer_values_are_refused_and_change_nothing() {
	run_rows <<'EOF'
EINVAL|root|buffer sync: gpu|setfattr -n user.umm.sync -v gpu "$VICTIM"
EINVAL|root|buffer sync: 64 KiB|setfattr -n user.umm.sync -v "$LONG64K" "$VICTIM"
EINVAL|root|buffer cache: not UTF-8|setfattr -n user.umm.cache -v "$NONUTF8" "$VICTIM"
EPERM|root|buffer heap is read-only|setfattr -n user.umm.heap -v memfd "$VICTIM"
EPERM|root|buffer exports is read-only|setfattr -n user.umm.exports -v 0 "$VICTIM"
EINVAL|root|directory-only size on a buffer|setfattr -n user.umm.size -v 4K "$VICTIM"
E2BIG|root|user.* value of 64 KiB + 1|setfattr -n user.note -v "$LONG64K1" "$VICTIM"
ERANGE|root|xattr name of 256 bytes|setfattr -n "user.$NAME256" -v 1 "$VICTIM"
EOF
}

test_names_and_sizes_past_the_limits() {
	run_rows <<'EOF'
OK|root|a name of 255 bytes|: >"$D/$NAME255" && rm "$D/$NAME255"
ENAMETOOLONG|root|a name of 256 bytes|: >"$D/$NAME256"
ENAMETOOLONG|root|a directory name of 256 bytes|mkdir "$D/$NAME256"
ENOSPC|root|truncate to 1T (past the mount's size)|truncate -s 1T "$D/big"; rc=$?; rm -f "$D/big"; exit $rc
ENOSPC|root|truncate past the directory's max_bytes|truncate -s 7M "$D/big"; rc=$?; rm -f "$D/big"; exit $rc
ENOSPC|root|fallocate 1T|fallocate -l 1T "$D/big"; rc=$?; rm -f "$D/big"; exit $rc
ENOSPC|root|dd past max_bytes|dd if=/dev/zero of="$D/big" bs=1M count=7 status=none; rc=$?; rm -f "$D/big"; exit $rc
ENOSPC|root|a write at offset 2^62|dd if=/dev/zero of="$D/big" bs=1 count=1 seek=4611686018427387904 conv=notrunc status=none; rc=$?; rm -f "$D/big"; exit $rc
ENOSPC|root|a directory size above the mount's|mkdir "$D/s" && setfattr -n user.umm.size -v 1G "$D/s" && : >"$D/s/b"; rc=$?; rm -rf "$D/s"; exit $rc
EOF
}

test_a_second_uid_cannot_touch_anothers_buffers() {
	run_rows <<'EOF'
EPERM|nobody|chmod of root's buffer|chmod 0666 "$VICTIM"
EPERM|nobody|chown of root's buffer|chown 65534 "$VICTIM"
EACCES|nobody|setxattr user.* on root's 0600 buffer|setfattr -n user.note -v x "$VICTIM"
EACCES|nobody|setxattr user.umm.sync on root's 0600 buffer|setfattr -n user.umm.sync -v device "$VICTIM"
EACCES|nobody|reading root's 0600 buffer|cat "$VICTIM"
EACCES|nobody|writing root's 0600 buffer|printf x >>"$VICTIM"
EACCES|nobody|truncating root's 0600 buffer|truncate -s 0 "$VICTIM"
EACCES|nobody|creating in root's 0755 directory|: >"$D/mine"
EACCES|nobody|setting a constraint on root's directory|setfattr -n user.umm.size -v 4K "$D"
EACCES|nobody|unlinking in root's 0755 directory|rm -f "$VICTIM"
EPERM|nobody|unlinking root's buffer in a sticky shared dir|rm -f "$SHARED/roots"
EPERM|nobody|renaming root's buffer in a sticky shared dir|mv "$SHARED/roots" "$SHARED/mine"
EACCES|nobody|writing root's 0644 buffer in the shared dir|printf x >>"$SHARED/roots"
ENOSPC|nobody|more than user_size=8M in the shared dir|truncate -s 9M "$SHARED/mine"; rc=$?; rm -f "$SHARED/mine"; exit $rc
ENOSPC|nobody|user_size reached by writes|dd if=/dev/zero of="$SHARED/mine" bs=1M count=9 status=none; rc=$?; rm -f "$SHARED/mine"; exit $rc
EOF
}

check test_bad_constraint_values_are_einval_and_change_nothing
check test_bad_buffer_values_are_refused_and_change_nothing
check test_names_and_sizes_past_the_limits
check test_a_second_uid_cannot_touch_anothers_buffers
finish
