#!/bin/bash
# test_xattr.sh - directory constraints and buffer attributes through
# setfattr/getfattr, as a user's script would use them (SPEC 4, 5).
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
ROOT_EFFECTIVE='size=none align=4K contiguous=0 cache=cached heap=auto devices= max_bytes=none'

test_root_is_sticky_world_writable_and_owned_by_root() {
	expect_eq '1777 0 0' "$(stat -c '%a %u %g' "$M")" 'root mode and owner'
	expect_eq 1 "$(stat -c %i "$M")" 'root inode number'
}

test_root_heaps_xattr_lists_memfd() {
	local heaps
	heaps=$(xget "$M" user.umm.heaps)
	note "user.umm.heaps: $(printf '%s' "$heaps" | tr '\n' ';')"
	printf '%s\n' "$heaps" | grep -q '^memfd\b' || fail "no line starting with 'memfd' in user.umm.heaps"
}

test_root_socket_xattr_is_the_socket_path() {
	local s
	s=$(xget "$M" user.umm.socket)
	expect_eq "$UMM_SOCK" "$s" 'user.umm.socket'
	[ -S "$s" ] || fail "$s is not a socket"
}

test_root_readonly_xattrs_cannot_be_set() {
	expect_errno EPERM setfattr -n user.umm.heaps -v memfd "$M"
	expect_errno EPERM setfattr -n user.umm.socket -v /tmp/x "$M"
	expect_errno EPERM setfattr -n user.umm.effective -v x "$M"
	expect_errno EPERM setfattr -n user.umm.used_bytes -v 0 "$M"
	expect_eq "$UMM_SOCK" "$(xget "$M" user.umm.socket)" 'socket after refused set'
}

test_root_listxattr_names_effective_used_heaps_socket() {
	local names n
	names=$(getfattr --absolute-names -m - -- "$M" | grep -v '^#' || true)
	for n in user.umm.effective user.umm.used_bytes user.umm.heaps user.umm.socket; do
		grep -qx "$n" <<<"$names" || fail "listxattr of the root lacks $n (got: $(tr '\n' ' ' <<<"$names"))"
	done
	if grep -qx user.umm.align <<<"$names"; then
		fail 'listxattr of the root names user.umm.align, which is not set'
	fi
}

test_root_effective_is_the_default_line() {
	expect_eq "$ROOT_EFFECTIVE" "$(xget "$M" user.umm.effective)" 'root user.umm.effective'
}

test_mkdir_inherits_parent_constraints() {
	local d
	d=$(newdir inherit)
	xset "$d" user.umm.align 64K
	xset "$d" user.umm.size 1M
	xset "$d" user.umm.max_bytes 8M
	mkdir "$d/child" "$d/child/grandchild"
	expect_eq 'size=1M align=64K contiguous=0 cache=cached heap=auto devices= max_bytes=8M' \
		"$(xget "$d/child" user.umm.effective)" 'child effective'
	expect_eq "$(xget "$d/child" user.umm.effective)" \
		"$(xget "$d/child/grandchild" user.umm.effective)" 'grandchild effective'
	# The child has not set anything of its own.
	expect_errno ENODATA getfattr -n user.umm.align "$d/child"
	expect_errno ENODATA getfattr -n user.umm.size "$d/child"
	expect_eq 64K "$(xget "$d" user.umm.align)" 'parent own align'
}

test_child_may_tighten_alignment() {
	local d
	d=$(newdir tighten)
	xset "$d" user.umm.align 64K
	mkdir "$d/c"
	xset "$d/c" user.umm.align 128K
	expect_eq 128K "$(effective_key "$d/c" align)" 'child effective align after tightening'
	expect_eq 64K "$(effective_key "$d" align)" 'parent effective align unchanged'
	# memfd aligns to the page (4K), or 2M with huge pages: a buffer of a
	# 128K-aligned dir needs huge pages.
	if have_hugepages; then
		printf 'hello' >"$d/c/buf"
		expect_eq hello "$(cat "$d/c/buf")" 'buffer content'
	else
		expect_errno 'EOPNOTSUPP|ENOSPC' touch "$d/c/buf"
		[ ! -e "$d/c/buf" ] || fail 'a refused create left a name'
	fi
}

test_child_never_loosens_parent_constraints() {
	local d
	d=$(newdir noloosen)
	xset "$d" user.umm.align 64K
	xset "$d" user.umm.max_bytes 1M
	mkdir "$d/c"
	# Setting a looser own value may be refused or stored, but the
	# effective constraint stays the parent's.
	setfattr -n user.umm.align -v 4K "$d/c" 2>/dev/null || true
	setfattr -n user.umm.max_bytes -v 64M "$d/c" 2>/dev/null || true
	expect_eq 64K "$(effective_key "$d/c" align)" 'effective align'
	expect_eq 1M "$(effective_key "$d/c" max_bytes)" 'effective max_bytes'
}

test_contiguous_once_1_stays_1() {
	local d
	d=$(newdir contig)
	xset "$d" user.umm.contiguous 1
	mkdir "$d/c"
	expect_eq 1 "$(effective_key "$d/c" contiguous)" 'inherited contiguous'
	setfattr -n user.umm.contiguous -v 0 "$d/c" 2>/dev/null || true
	expect_eq 1 "$(effective_key "$d/c" contiguous)" 'contiguous after child sets 0'
}

test_removexattr_drops_own_setting_only() {
	local d
	d=$(newdir remove)
	xset "$d" user.umm.align 64K
	mkdir "$d/c"
	xset "$d/c" user.umm.align 256K
	xset "$d/c" user.umm.size 12K
	expect_eq 256K "$(effective_key "$d/c" align)" 'before remove'
	setfattr -x user.umm.align "$d/c"
	expect_errno ENODATA getfattr -n user.umm.align "$d/c"
	expect_eq 64K "$(effective_key "$d/c" align)" 'effective align after remove'
	expect_eq 12K "$(effective_key "$d/c" size)" 'size untouched by removing align'
	setfattr -x user.umm.size "$d/c"
	expect_eq none "$(effective_key "$d/c" size)" 'effective size after remove'
}

test_listxattr_of_dir_names_own_settings() {
	local d names
	d=$(newdir listdir)
	xset "$d" user.umm.align 8K
	names=$(getfattr --absolute-names -m - -- "$d" | grep -v '^#' || true)
	grep -qx user.umm.align <<<"$names" || fail "user.umm.align not listed"
	grep -qx user.umm.effective <<<"$names" || fail "user.umm.effective not listed"
	grep -qx user.umm.used_bytes <<<"$names" || fail "user.umm.used_bytes not listed"
	if grep -qx user.umm.size <<<"$names"; then fail 'unset user.umm.size listed'; fi
	if grep -qx user.umm.socket <<<"$names"; then fail 'user.umm.socket listed on a subdir'; fi
}

test_size_values_take_binary_suffixes() {
	local d
	d=$(newdir suffixes)
	xset "$d" user.umm.size 8388608
	expect_eq 8M "$(effective_key "$d" size)" 'size=8388608'
	xset "$d" user.umm.size 8m
	expect_eq 8M "$(effective_key "$d" size)" 'size=8m'
	xset "$d" user.umm.size 1g
	expect_eq 1G "$(effective_key "$d" size)" 'size=1g'
	xset "$d" user.umm.size 5000
	expect_eq 5000 "$(effective_key "$d" size)" 'size=5000'
	xset "$d" user.umm.max_bytes 3K
	expect_eq 3K "$(effective_key "$d" max_bytes)" 'max_bytes=3K'
}

# bad_value NAME GOOD BAD...: with NAME set to GOOD, each BAD is EINVAL and
# leaves GOOD in place.
bad_values() {
	local d=$1 name=$2 good=$3 bad before eff
	shift 3
	xset "$d" "$name" "$good"
	before=$(xget "$d" "$name")
	eff=$(xget "$d" user.umm.effective)
	for bad in "$@"; do
		expect_errno EINVAL setfattr -n "$name" -v "$bad" "$d"
		expect_eq "$before" "$(xget "$d" "$name")" "$name after refused '$bad'"
	done
	expect_eq "$eff" "$(xget "$d" user.umm.effective)" "effective after refused $name values"
}

test_bad_constraint_values_are_einval_and_change_nothing() {
	local d
	d=$(newdir badvalues)
	bad_values "$d" user.umm.align 64K 3K 1K 2048 0 abc -4K 8MB 4KiB 1.5K '' 99999999999999999999999 '64K '
	bad_values "$d" user.umm.size 1M abc -1 1.5M 8MB 12Q '' 99999999999999999999999 0x10
	bad_values "$d" user.umm.contiguous 0 2 yes -1 '' 01x
	bad_values "$d" user.umm.cache cached foo '' 'cached uncached' cachedx
	bad_values "$d" user.umm.max_bytes 4M abc -5 1.5M 4MB '' 99999999999999999999999
}

test_unknown_umm_name_is_einval() {
	local d
	d=$(newdir unknown)
	expect_errno EINVAL setfattr -n user.umm.bogus -v 1 "$d"
	expect_errno EINVAL setfattr -n user.umm.bogus -v 1 "$M"
	expect_errno ENODATA getfattr -n user.umm.bogus "$d"
}

test_readonly_dir_xattrs_are_eperm() {
	local d
	d=$(newdir rodir)
	expect_errno EPERM setfattr -n user.umm.effective -v 'size=1M' "$d"
	expect_errno EPERM setfattr -n user.umm.used_bytes -v 0 "$d"
	expect_eq 0 "$(used_bytes "$d")" 'used_bytes of an empty dir'
}

test_other_user_xattrs_stored_untouched_on_dirs_and_buffers() {
	local d f obj blob
	d=$(newdir userx)
	f=$d/buf
	printf 'data' >"$f"
	blob=0x00ff7f80015c0a0d2200
	for obj in "$d" "$f"; do
		setfattr -n user.pixel_format -v NV12 "$obj"
		expect_eq NV12 "$(xget "$obj" user.pixel_format)" "text value on $obj"
		setfattr -n user.blob -v "$blob" "$obj"
		expect_eq "$blob" "$(xget_hex "$obj" user.blob)" "binary value on $obj"
		setfattr -n user.empty -v '' "$obj"
		expect_eq '' "$(xget "$obj" user.empty)" "empty value on $obj"
		getfattr --absolute-names -m - -- "$obj" | grep -qx user.blob ||
			fail "user.blob not listed on $obj"
		setfattr -n user.pixel_format -v YUYV "$obj"
		expect_eq YUYV "$(xget "$obj" user.pixel_format)" "replaced value on $obj"
		setfattr -x user.blob "$obj"
		expect_errno ENODATA getfattr -n user.blob "$obj"
		expect_errno ENODATA setfattr -x user.blob "$obj"
	done
	expect_eq data "$(cat "$f")" 'buffer content after xattrs'
}

test_large_user_xattr_value_round_trips() {
	local d hex
	d=$(newdir bigx)
	# 16 KiB of binary, through setfattr's hex form.
	hex=0x$(head -c 16384 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
	setfattr -n user.big -v "$hex" "$d"
	expect_eq "$hex" "$(xget_hex "$d" user.big)" '16 KiB value'
}

test_non_user_namespace_is_eopnotsupp() {
	local d
	d=$(newdir trusted)
	expect_errno EOPNOTSUPP setfattr -n trusted.umm_test -v 1 "$d"
	expect_errno ENODATA getfattr -n trusted.umm_test "$d"
}

test_buffer_attributes_on_memfd() {
	local d f
	d=$(newdir bufattr)
	xset "$d" user.umm.heap memfd
	f=$d/buf
	head -c 10000 /dev/urandom >"$f"
	expect_eq memfd "$(xget "$f" user.umm.heap)" 'user.umm.heap'
	expect_eq 0 "$(xget "$f" user.umm.contiguous)" 'user.umm.contiguous'
	expect_eq cached "$(xget "$f" user.umm.cache)" 'user.umm.cache'
	expect_eq cpu "$(xget "$f" user.umm.sync)" 'default user.umm.sync'
	expect_eq 0 "$(xget "$f" user.umm.exports)" 'user.umm.exports of a never exported buffer'
	expect_eq '' "$(xget "$f" user.umm.dmabuf)" 'user.umm.dmabuf on memfd'
}

test_buffer_sync_xattr_takes_the_four_domains() {
	local d f v
	d=$(newdir sync)
	f=$d/buf
	printf 'x' >"$f"
	for v in device cpu:read cpu:write cpu device; do
		xset "$f" user.umm.sync "$v"
		expect_eq "$v" "$(xget "$f" user.umm.sync)" "user.umm.sync=$v"
	done
	for v in bogus '' CPU cpu:rw 'cpu '; do
		expect_errno EINVAL setfattr -n user.umm.sync -v "$v" "$f"
		expect_eq device "$(xget "$f" user.umm.sync)" "sync after refused '$v'"
	done
}

test_buffer_readonly_and_dir_only_xattrs_are_refused() {
	local d f
	d=$(newdir bufro)
	xset "$d" user.umm.heap memfd
	f=$d/buf
	printf 'x' >"$f"
	expect_errno EPERM setfattr -n user.umm.heap -v memfd "$f"
	expect_errno EPERM setfattr -n user.umm.contiguous -v 1 "$f"
	expect_errno EPERM setfattr -n user.umm.exports -v 5 "$f"
	expect_errno EPERM setfattr -n user.umm.dmabuf -v 1 "$f"
	expect_errno EINVAL setfattr -n user.umm.size -v 4K "$f"
	expect_errno EINVAL setfattr -n user.umm.align -v 4K "$f"
	expect_errno EINVAL setfattr -n user.umm.max_bytes -v 4K "$f"
	expect_eq memfd "$(xget "$f" user.umm.heap)" 'heap after refused set'
}

test_uncached_dir_cannot_create_on_memfd() {
	local d
	d=$(newdir uncached)
	xset "$d" user.umm.cache uncached
	expect_eq uncached "$(effective_key "$d" cache)" 'effective cache'
	expect_errno EOPNOTSUPP touch "$d/buf"
	[ ! -e "$d/buf" ] || fail 'a buffer was left behind by the failed create'
	expect_eq 0 "$(used_bytes "$d")" 'used_bytes after failed create'
}

test_contiguous_dir_creates_only_with_hugepages() {
	local d
	d=$(newdir contigcreate)
	xset "$d" user.umm.contiguous 1
	xset "$d" user.umm.size 2M
	if have_hugepages; then
		touch "$d/buf"
		expect_eq 1 "$(xget "$d/buf" user.umm.contiguous)" 'contiguous buffer'
	else
		note 'no free huge pages: a contiguous buffer cannot be made on memfd'
		expect_errno 'EOPNOTSUPP|ENOSPC' touch "$d/buf"
		[ ! -e "$d/buf" ] || fail 'a buffer was left behind by the failed create'
	fi
}

test_tightening_that_existing_buffers_miss_is_ebusy() {
	local d eff
	d=$(newdir tightbusy)
	mkdir "$d/sub"
	head -c 20000 /dev/urandom >"$d/buf"
	head -c 100 /dev/urandom >"$d/sub/small"
	cat "$d/buf" "$d/sub/small" >/dev/null
	eff=$(xget "$d" user.umm.effective)
	if ! have_hugepages; then
		expect_errno EBUSY setfattr -n user.umm.align -v 2M "$d"
		expect_errno EBUSY setfattr -n user.umm.contiguous -v 1 "$d"
	fi
	expect_errno EBUSY setfattr -n user.umm.cache -v uncached "$d"
	# used: 20000 -> 20480, plus 100 -> 4096 in the subdir.
	expect_errno EBUSY setfattr -n user.umm.max_bytes -v 16K "$d"
	expect_errno EBUSY setfattr -n user.umm.max_bytes -v 20K "$d"
	expect_eq "$eff" "$(xget "$d" user.umm.effective)" 'effective after refused tightening'
	expect_errno ENODATA getfattr -n user.umm.max_bytes "$d"
	# A tightening that every buffer meets is fine.
	xset "$d" user.umm.max_bytes 24K
	expect_eq 24K "$(effective_key "$d" max_bytes)" 'max_bytes equal to used'
}

test_used_bytes_counts_pages_up_the_tree() {
	local d before
	before=$(used_bytes "$M")
	d=$(newdir used)
	mkdir "$d/sub"
	head -c 5000 /dev/urandom >"$d/sub/a"
	head -c 4096 /dev/urandom >"$d/b"
	expect_eq 8192 "$(used_bytes "$d/sub")" 'sub used_bytes (5000 bytes -> 2 pages)'
	expect_eq 12288 "$(used_bytes "$d")" 'dir used_bytes'
	expect_eq $((before + 12288)) "$(used_bytes "$M")" 'root used_bytes'
	rm "$d/sub/a"
	wait_until 20 "[ \"\$(used_bytes '$d')\" = 4096 ]" ||
		fail "used_bytes after rm: $(used_bytes "$d")"
}

test_xattr_create_and_replace_flags() {
	local d
	need_cli
	d=$(newdir xflags)
	printf x >"$d/buf"
	for obj in "$d" "$d/buf"; do
		"$UMM_CLI" setxattr "$obj" user.fmt NV12 create
		expect_errno EEXIST "$UMM_CLI" setxattr "$obj" user.fmt YUYV create
		expect_eq NV12 "$(xget "$obj" user.fmt)" "value after refused XATTR_CREATE on $obj"
		"$UMM_CLI" setxattr "$obj" user.fmt YUYV replace
		expect_eq YUYV "$(xget "$obj" user.fmt)" "value after XATTR_REPLACE on $obj"
		expect_errno ENODATA "$UMM_CLI" setxattr "$obj" user.absent v replace
		expect_errno ENODATA getfattr -n user.absent "$obj"
	done
	# The same flags on umm's own names (on an empty dir: a tighter align
	# than memfd's 4K is EBUSY while a buffer is in it).
	rm "$d/buf"
	"$UMM_CLI" setxattr "$d" user.umm.align 8K create
	expect_errno EEXIST "$UMM_CLI" setxattr "$d" user.umm.align 16K create
	expect_eq 8K "$(xget "$d" user.umm.align)" 'align after refused XATTR_CREATE'
	expect_errno ENODATA "$UMM_CLI" setxattr "$d" user.umm.size 4K replace
	expect_errno ENODATA getfattr -n user.umm.size "$d"
}

test_many_user_xattrs_are_listed() {
	local d i n names
	d=$(newdir xmany)
	for ((i = 0; i < 150; i++)); do
		setfattr -n "user.attr_$(printf '%0200d' "$i")" -v "v$i" "$d"
	done
	names=$(getfattr --absolute-names -m '^user\.attr_' -- "$d" | grep -c '^user\.attr_' || true)
	expect_eq 150 "$names" 'user.attr_* names listed'
	n=$(getfattr --absolute-names --only-values -n "user.attr_$(printf '%0200d' 77)" -- "$d")
	expect_eq v77 "$n" 'one of 150 values'
}

check test_root_is_sticky_world_writable_and_owned_by_root
check test_root_heaps_xattr_lists_memfd
check test_root_socket_xattr_is_the_socket_path
check test_root_readonly_xattrs_cannot_be_set
check test_root_listxattr_names_effective_used_heaps_socket
check test_root_effective_is_the_default_line
check test_mkdir_inherits_parent_constraints
check test_child_may_tighten_alignment
check test_child_never_loosens_parent_constraints
check test_contiguous_once_1_stays_1
check test_removexattr_drops_own_setting_only
check test_listxattr_of_dir_names_own_settings
check test_size_values_take_binary_suffixes
check test_bad_constraint_values_are_einval_and_change_nothing
check test_unknown_umm_name_is_einval
check test_readonly_dir_xattrs_are_eperm
check test_other_user_xattrs_stored_untouched_on_dirs_and_buffers
check test_large_user_xattr_value_round_trips
check test_non_user_namespace_is_eopnotsupp
check test_buffer_attributes_on_memfd
check test_buffer_sync_xattr_takes_the_four_domains
check test_buffer_readonly_and_dir_only_xattrs_are_refused
check test_uncached_dir_cannot_create_on_memfd
check test_contiguous_dir_creates_only_with_hugepages
check test_tightening_that_existing_buffers_miss_is_ebusy
check test_used_bytes_counts_pages_up_the_tree
check test_xattr_create_and_replace_flags
check test_many_user_xattrs_are_listed
finish
