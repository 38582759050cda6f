#!/bin/bash
# test_files.sh - buffers as files: cp, dd, truncate, redirection, stat, ls,
# chmod/chown/touch (compared with a real tmpfs), df, du, rm, and the
# operations umm refuses (SPEC 5).
# umm-fs-options: size=256M
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

M=$UMM_MNT
T=$UMM_TMP/tmpfs
S=$UMM_TMP/src
mkdir -p "$S"
mount_tmpfs "$T" size=64M
BUDGET=$((256 * 1024 * 1024))

test_cp_in_and_out_is_byte_identical() {
	local d n out
	d=$(newdir cp)
	out=$UMM_TMP/cpout
	mkdir -p "$out"
	for n in 0 1 4095 4096 4097 65549 1048577 5242880; do
		make_data "$S/cp.$n" "$n"
		cp "$S/cp.$n" "$d/f.$n"
		expect_eq "$n" "$(stat -c %s "$d/f.$n")" "size after cp in of $n bytes"
		cmp "$S/cp.$n" "$d/f.$n" || fail "cp in of $n bytes differs"
		cp "$d/f.$n" "$out/f.$n"
		cmp "$S/cp.$n" "$out/f.$n" || fail "cp out of $n bytes differs"
		# A second cp over the (now sized) buffer of the same size.
		cp "$S/cp.$n" "$d/f.$n"
		cmp "$S/cp.$n" "$d/f.$n" || fail "cp over an existing $n-byte buffer differs"
	done
	rm -rf "$out"
}

test_cp_within_the_mount_copies_bytes() {
	local d
	d=$(newdir cpin)
	make_data "$S/within" 300001
	cp "$S/within" "$d/a"
	cp "$d/a" "$d/b"
	cmp "$S/within" "$d/b" || fail 'copy within the mount differs'
	[ "$(stat -c %i "$d/a")" != "$(stat -c %i "$d/b")" ] || fail 'copy shares the inode'
}

test_dd_writes_and_reads_back() {
	local d
	d=$(newdir dd)
	make_data "$S/dd" $((400 * 1024 + 123))
	dd if="$S/dd" of="$d/a" bs=4096 status=none
	cmp "$S/dd" "$d/a" || fail 'dd bs=4096 in differs'
	dd if=/dev/urandom of="$d/b" bs=1M count=5 iflag=fullblock status=none
	expect_eq 5242880 "$(stat -c %s "$d/b")" 'dd bs=1M count=5 size'
	dd if="$d/b" of="$S/dd.out" bs=64K status=none
	cmp "$S/dd.out" "$d/b" || fail 'dd out differs'
	dd if="$d/b" of="$S/dd.part" bs=4096 skip=100 count=3 status=none
	cmp <(tail -c +$((100 * 4096 + 1)) "$d/b" | head -c $((3 * 4096))) "$S/dd.part" ||
		fail 'dd skip= read differs'
}

# In-place overwrites with dd conv=notrunc give what tmpfs gives, while the
# buffer is being filled and after it has been read (sized).
test_dd_notrunc_overwrite_matches_tmpfs() {
	local d where
	d=$(newdir ddover)
	make_data "$S/base" 65536
	make_data "$S/patch" 3000
	for where in "$T/over1" "$d/over1"; do
		cp "$S/base" "$where"
		dd if="$S/patch" of="$where" bs=1000 seek=3 count=2 conv=notrunc status=none
	done
	cmp "$T/over1" "$d/over1" || fail 'overwrite while filling differs from tmpfs'
	for where in "$T/over2" "$d/over2"; do
		cp "$S/base" "$where"
		cat "$where" >/dev/null
		dd if="$S/patch" of="$where" bs=1 seek=65000 count=536 conv=notrunc status=none
	done
	cmp "$T/over2" "$d/over2" || fail 'overwrite of a sized buffer differs from tmpfs'
	expect_eq 65536 "$(stat -c %s "$d/over2")" 'size after in-place overwrite'
}

# dd with seek= opens its output O_RDWR (coreutils tries O_RDWR first when
# seeking): writing past the end of a buffer still being filled must work as
# on tmpfs (SPEC 5: "dd ... all work"; a buffer being filled "grows within its
# budgets").
test_dd_seek_extends_a_filling_buffer() {
	local d where
	d=$(newdir ddseek)
	dd if=/dev/urandom of="$S/ddseek.part" bs=10 count=1 status=none
	for where in "$T/ddseek" "$d/f"; do
		head -c 100 /dev/zero >"$where"
		dd if="$S/ddseek.part" of="$where" bs=10 count=1 seek=10 conv=notrunc status=none
	done
	expect_eq 110 "$(stat -c %s "$d/f")" 'size after dd seek=10 past the end'
	cmp "$T/ddseek" "$d/f" || fail 'content differs from tmpfs'
}

test_shell_redirection_and_append_while_filling() {
	local d
	d=$(newdir redir)
	echo first >"$d/f"
	echo second >>"$d/f"
	printf 'third' >>"$d/f"
	expect_eq "$(printf 'first\nsecond\nthird')" "$(cat "$d/f")" 'content'
	expect_eq 18 "$(stat -c %s "$d/f")" 'size'
}

test_truncate_sizes_and_resizes_an_unshared_buffer() {
	local d
	d=$(newdir trunc)
	truncate -s 8M "$d/f"
	expect_eq 8388608 "$(stat -c %s "$d/f")" 'size after truncate -s 8M'
	cmp -n 8388608 "$d/f" /dev/zero || fail 'a truncated buffer is not all zeros'
	expect_eq 8388608 "$(used_bytes "$d")" 'used_bytes after truncate -s 8M'
	# Never exported, nobody holds it open: resizing works.
	truncate -s 1000 "$d/f"
	expect_eq 1000 "$(stat -c %s "$d/f")" 'size after truncate -s 1000'
	expect_eq 4096 "$(used_bytes "$d")" 'used_bytes after shrinking'
	truncate -s 3M "$d/f"
	expect_eq 3145728 "$(stat -c %s "$d/f")" 'size after growing again'
	cmp -n 3145728 "$d/f" /dev/zero || fail 'grown buffer is not all zeros'
	truncate -s 0 "$d/f"
	expect_eq 0 "$(stat -c %s "$d/f")" 'size after truncate -s 0'
	expect_eq 0 "$(used_bytes "$d")" 'used_bytes after truncate -s 0'
}

test_truncate_keeps_the_bytes_below_the_new_size() {
	local d
	d=$(newdir trunckeep)
	make_data "$S/keep" 100000
	cp "$S/keep" "$d/f"
	truncate -s 50000 "$d/f"
	cmp -n 50000 "$S/keep" "$d/f" || fail 'bytes below the new size changed'
	expect_eq 50000 "$(stat -c %s "$d/f")" 'size'
	truncate -s 70000 "$d/f"
	cmp -n 50000 "$S/keep" "$d/f" || fail 'bytes changed by growing'
	cmp -n 20000 <(tail -c +50001 "$d/f") /dev/zero || fail 'grown tail is not zeros'
}

test_fallocate_grows_a_filling_buffer() {
	local d
	d=$(newdir falloc)
	touch "$d/f"
	fallocate -l 1M "$d/f"
	expect_eq 1048576 "$(stat -c %s "$d/f")" 'size after fallocate -l 1M'
	expect_eq 1048576 "$(used_bytes "$d")" 'used_bytes after fallocate'
}

test_stat_reports_size_mode_owner_and_blocks() {
	local d blocks
	d=$(newdir stat)
	(umask 022 && head -c 10000 /dev/urandom >"$d/f")
	expect_eq '10000 644 0 0 1 regular file' "$(stat -c '%s %a %u %g %h %F' "$d/f")" 'stat'
	blocks=$(stat -c '%b * %B' "$d/f")
	blocks=$((blocks))
	[ "$blocks" -ge 10000 ] || fail "st_blocks*blksize = $blocks < 10000 bytes written"
	[ "$blocks" -le $((2 * 1024 * 1024)) ] || fail "st_blocks*blksize = $blocks, far more than written"
	expect_eq directory "$(stat -c %F "$d")" 'dir type'
}

test_buffer_is_owned_by_its_creator() {
	local d
	d=$(newdir owner)
	chmod 1777 "$d"
	run_as 65534 sh -c "umask 077 && printf x >'$d/f'"
	expect_eq '65534 65534 600 1' "$(stat -c '%u %g %a %s' "$d/f")" 'owner, group, mode, size'
	run_as 65534 mkdir -m 0750 "$d/sub"
	expect_eq '65534 65534 750' "$(stat -c '%u %g %a' "$d/sub")" 'subdir owner and mode'
}

# Files with the same modes in umm and in tmpfs: ls -l shows the same.
test_ls_l_modes_match_tmpfs() {
	local d base m lsu lst
	d=$(newdir ls)
	for base in "$T/ls" "$d"; do
		mkdir -p "$base"
		for m in 600 640 644 755 4755 2755 444; do
			printf 'content %s' "$m" >"$base/f$m"
			chmod "$m" "$base/f$m"
		done
		mkdir "$base/d700" "$base/d1777"
		chmod 700 "$base/d700"
		chmod 1777 "$base/d1777"
		chown 65534:65534 "$base/f640"
	done
	# mode, links (files), owner, group, size (files), name
	lsu=$(cd "$d" && ls -ln | awk 'NR > 1 { print $1, ($1 ~ /^d/ ? "" : $2 " " $5), $3, $4, $NF }')
	lst=$(cd "$T/ls" && ls -ln | awk 'NR > 1 { print $1, ($1 ~ /^d/ ? "" : $2 " " $5), $3, $4, $NF }')
	if [ "$lsu" != "$lst" ]; then
		diff <(echo "$lst") <(echo "$lsu") >&2 || true
		fail 'ls -ln differs from tmpfs (< tmpfs, > umm)'
	fi
	lsu=$(cd "$d" && ls -a | tr '\n' ' ')
	lst=$(cd "$T/ls" && ls -a | tr '\n' ' ')
	expect_eq "$lst" "$lsu" 'ls -a entries'
}

test_chmod_matches_tmpfs() {
	local d m got want
	d=$(newdir chmod)
	printf x >"$d/f"
	printf x >"$T/chmodf"
	mkdir "$d/sub" "$T/chmodd"
	for m in 0 600 644 755 4755 2755 6755 1755 7777 2644 4644 0444; do
		chmod "$m" "$d/f" "$T/chmodf" "$d/sub" "$T/chmodd"
		want=$(stat -c '%a %A' "$T/chmodf")
		got=$(stat -c '%a %A' "$d/f")
		expect_eq "$want" "$got" "file mode after chmod $m"
		want=$(stat -c '%a %A' "$T/chmodd")
		got=$(stat -c '%a %A' "$d/sub")
		expect_eq "$want" "$got" "dir mode after chmod $m"
	done
	chmod u=rw,g=r,o= "$d/f" "$T/chmodf"
	expect_eq "$(stat -c %a "$T/chmodf")" "$(stat -c %a "$d/f")" 'symbolic chmod'
	# Only the owner (or root) may chmod.
	chmod 644 "$d/f"
	expect_errno EPERM run_as 65534 chmod 666 "$d/f"
	expect_eq 644 "$(stat -c %a "$d/f")" 'mode after refused chmod'
}

# Writes and truncates by another uid clear set-user/group-ID bits as on tmpfs
# (the daemon does it: the kernel leaves it to the file system), root's keep
# them; a passthrough open for writing by another uid clears them at the open.
test_setid_bits_cleared_by_writes_like_tmpfs() {
	local d f m how
	d=$(newdir setid)
	chmod 0777 "$d"
	for how in append truncate root-append root-truncate rw-open; do
		for m in 6777 6767; do
			for f in "$d/$how" "$T/setid-$how"; do
				printf x >"$f"
				chmod "$m" "$f"
				case $how in
				append) run_as 65534 sh -c "printf y >>'$f'" ;;
				truncate) run_as 65534 truncate -s 0 "$f" ;;
				root-append) printf y >>"$f" ;;
				root-truncate) truncate -s 0 "$f" ;;
				rw-open) run_as 65534 sh -c "printf y 1<>'$f'" ;;
				esac
			done
			expect_eq "$(stat -c %a "$T/setid-$how")" "$(stat -c %a "$d/$how")" \
				"mode $m after $how"
			rm -f "$d/$how" "$T/setid-$how"
		done
	done
}

test_chown_matches_tmpfs() {
	local d f want got
	d=$(newdir chown)
	for f in "$d/f" "$T/chownf"; do
		printf x >"$f"
		chmod 6755 "$f"
		chown 65534:65534 "$f"
	done
	want=$(stat -c '%a %u %g' "$T/chownf")
	got=$(stat -c '%a %u %g' "$d/f")
	expect_eq "$want" "$got" 'mode and owner after chown of a setuid file'
	for f in "$d/f" "$T/chownf"; do
		chmod 2775 "$f"
		chown :0 "$f"
	done
	expect_eq "$(stat -c '%a %u %g' "$T/chownf")" "$(stat -c '%a %u %g' "$d/f")" 'chown :0'
	chown 0:0 "$d/f"
	expect_errno EPERM run_as 65534 chown 65534 "$d/f"
	expect_eq '0 0' "$(stat -c '%u %g' "$d/f")" 'owner after refused chown'
	# The owner may give the file to a group it belongs to only.
	chown 65534:65534 "$d/f"
	expect_errno EPERM run_as 65534 chgrp 0 "$d/f"
}

test_touch_and_utimens_match_tmpfs() {
	local d f now mt
	d=$(newdir touch)
	for f in "$d/f" "$T/touchf"; do
		printf x >"$f"
		touch -d @1000000000.5 "$f"
	done
	expect_eq "$(stat -c '%.9X %.9Y' "$T/touchf")" "$(stat -c '%.9X %.9Y' "$d/f")" 'touch -d'
	expect_eq '1000000000.500000000 1000000000.500000000' "$(stat -c '%.9X %.9Y' "$d/f")" 'times'
	touch -a -d @1200000000 "$d/f"
	expect_eq '1200000000 1000000000' "$(stat -c '%X %Y' "$d/f")" 'touch -a'
	touch -m -d @1300000000.25 "$d/f"
	expect_eq '1200000000 1300000000.250000000' "$(stat -c '%X %.9Y' "$d/f")" 'touch -m'
	now=$(date +%s)
	touch "$d/f"
	mt=$(stat -c %Y "$d/f")
	[ $((mt - now)) -ge -1 ] && [ $((mt - now)) -le 5 ] || fail "touch set mtime $mt, now is $now"
	# touch of a new name creates an empty buffer, as on tmpfs.
	touch "$d/new"
	expect_eq '0 regular empty file' "$(stat -c '%s %F' "$d/new")" 'touch of a new name'
	# Only the owner may set arbitrary times; anyone with write access may set now.
	chmod 666 "$d/f"
	expect_errno EPERM run_as 65534 touch -d @1 "$d/f"
	run_as 65534 touch "$d/f"
	# Writing updates mtime and ctime.
	touch -d @1000000000 "$d/new"
	printf abc >>"$d/new"
	mt=$(stat -c %Y "$d/new")
	[ "$mt" -ge "$now" ] || fail "mtime not updated by a write: $mt"
}

test_umask_applies_like_tmpfs() {
	local d base
	d=$(newdir umask)
	for base in "$T/umask" "$d"; do
		mkdir -p "$base"
		(
			umask 027
			printf x >"$base/f"
			mkdir "$base/d"
			mkdir -m 1730 "$base/d2"
			umask 0
			printf x >"$base/g"
		)
	done
	expect_eq "$(cd "$T/umask" && stat -c '%n %a' f d d2 g)" \
		"$(cd "$d" && stat -c '%n %a' f d d2 g)" 'modes under umask'
}

test_df_reports_the_size_budget() {
	local size used avail before
	# Releases are asynchronous: let earlier checks' buffers go first.
	wait_until 30 "[ \"\$(df -B1 --output=used '$M' | tail -n 1 | tr -d ' ')\" = \"\$(used_bytes '$M')\" ]" || true
	read -r size used avail < <(df -B1 --output=size,used,avail "$M" | tail -n 1)
	expect_eq "$BUDGET" "$size" 'df size (mount size=256M)'
	expect_eq "$(used_bytes "$M")" "$used" 'df used = root user.umm.used_bytes'
	expect_eq "$size" "$((used + avail))" 'df used + avail'
	expect_eq '4096 65536 255' "$(stat -f -c '%S %b %l' "$M")" 'statfs bsize, blocks, namemax'
	before=$used
	head -c $((5 * 1024 * 1024)) /dev/urandom >"$M/df5m"
	read -r size used avail < <(df -B1 --output=size,used,avail "$M" | tail -n 1)
	expect_eq $((before + 5 * 1024 * 1024)) "$used" 'df used after a 5 MiB buffer'
	expect_eq "$BUDGET" "$((used + avail))" 'df used + avail after a 5 MiB buffer'
	rm "$M/df5m"
	wait_until 20 "[ \"\$(df -B1 --output=used '$M' | tail -n 1 | tr -d ' ')\" = $before ]" ||
		fail "df used not back to $before after rm"
}

test_du_counts_the_memory_held() {
	local d n
	d=$(newdir du)
	head -c 1048576 /dev/urandom >"$d/f"
	n=$(du -B1 "$d/f" | cut -f1)
	[ "$n" -ge 1048576 ] || fail "du of a 1 MiB written buffer says $n"
	expect_eq 1048576 "$(du -b "$d/f" | cut -f1)" 'du --apparent-size'
	head -c 10 /dev/urandom >"$d/g"
	n=$(du -B1 -s "$d" | cut -f1)
	[ "$n" -ge $((1048576 + 4096)) ] || fail "du -s of the dir says $n"
}

test_rm_removes_the_name_and_frees_memory() {
	local d before
	d=$(newdir rm)
	before=$(used_bytes "$M")
	head -c 1048576 /dev/urandom >"$d/f"
	expect_eq $((before + 1048576)) "$(used_bytes "$M")" 'used_bytes with the buffer'
	rm "$d/f"
	[ ! -e "$d/f" ] || fail 'name still there after rm'
	expect_errno ENOENT stat "$d/f"
	wait_until 20 "[ \"\$(used_bytes '$M')\" = $before ]" ||
		fail "used_bytes $(used_bytes "$M") not back to $before after rm"
	mkdir -p "$d/t/u/v"
	printf a >"$d/t/a"
	printf b >"$d/t/u/v/b"
	rm -r "$d/t"
	[ ! -e "$d/t" ] || fail 'rm -r left the tree'
	rmdir "$d"
}

test_link_symlink_mknod_are_eperm() {
	local d
	d=$(newdir nolinks)
	printf x >"$d/f"
	expect_errno EPERM ln "$d/f" "$d/hard"
	expect_errno EPERM ln -s f "$d/soft"
	expect_errno EPERM mkfifo "$d/fifo"
	expect_errno EPERM mknod "$d/null" c 1 3
	expect_errno EPERM mknod "$d/blk" b 7 0
	expect_eq f "$(ls "$d")" 'names after refused link/symlink/mknod'
	expect_eq 1 "$(stat -c %h "$d/f")" 'link count'
}

test_rmdir_of_nonempty_dir_is_enotempty() {
	local d
	d=$(newdir rmdir)
	mkdir "$d/a" "$d/b" "$d/b/sub"
	printf x >"$d/a/f"
	expect_errno ENOTEMPTY rmdir "$d/a"
	expect_errno ENOTEMPTY rmdir "$d/b"
	expect_errno ENOTDIR rmdir "$d/a/f"
	[ -e "$d/a/f" ] || fail 'buffer gone after refused rmdir'
	rm "$d/a/f"
	rmdir "$d/a" "$d/b/sub" "$d/b"
	expect_eq '' "$(ls -A "$d")" 'dir after rmdir'
	expect_errno EISDIR rm -f -- "$d/../rmdir"
}

test_names_up_to_255_bytes() {
	local d n255 n256
	d=$(newdir names)
	n255=$(printf 'n%.0s' $(seq 255))
	n256=${n255}x
	printf x >"$d/$n255"
	expect_eq x "$(cat "$d/$n255")" '255-byte name'
	expect_errno ENAMETOOLONG touch "$d/$n256"
	printf y >"$d/sp ace;\$name'\"é"
	expect_eq y "$(cat "$d/sp ace;\$name'\"é")" 'odd characters in a name'
}

test_inode_numbers_are_distinct() {
	local d a b c
	d=$(newdir ino)
	touch "$d/a" "$d/b"
	mkdir "$d/c"
	a=$(stat -c %i "$d/a")
	b=$(stat -c %i "$d/b")
	c=$(stat -c %i "$d/c")
	[ "$a" != "$b" ] && [ "$a" != "$c" ] && [ "$b" != "$c" ] || fail "inodes $a $b $c"
	rm "$d/a"
	touch "$d/a2"
	[ "$(stat -c %i "$d/a2")" != "$a" ] || fail 'inode number reused while the daemon runs'
}

test_open_excl_on_existing_name_fails() {
	local d
	d=$(newdir excl)
	printf x >"$d/f"
	expect_errno EEXIST "$UMM_CLI" open "$d/f" w,creat,excl y
	expect_eq x "$(cat "$d/f")" 'content after refused O_EXCL'
	expect_errno EEXIST mkdir "$d/f"
}

test_many_entries_list_and_remove() {
	local d i n
	d=$(newdir many)
	for ((i = 0; i < 1000; i++)); do
		: >"$d/entry-with-a-longish-name-$i"
	done
	mkdir "$d/subdir"
	n=$(ls -A "$d" | wc -l)
	expect_eq 1001 "$n" 'ls -A entries'
	n=$(find "$d" -mindepth 1 | sort -u | wc -l)
	expect_eq 1001 "$n" 'find entries (no repeats)'
	# rm -r reads the dir while it removes entries from it.
	rm -r "$d"
	[ ! -e "$d" ] || fail "rm -r left $(ls -A "$d" 2>/dev/null | wc -l) entries"
}

# A random series of writes (O_WRONLY, as a filler) and truncates gives what
# tmpfs gives.
test_random_writes_match_tmpfs() {
	local d i off len sz skip_to f
	need_cli
	d=$(newdir random)
	make_data "$S/rnd" 300000
	RANDOM=4242
	for ((i = 0; i < 60; i++)); do
		off=$(((RANDOM * 32768 + RANDOM) % 400000))
		len=$((RANDOM % 20000 + 1))
		skip_to=$((RANDOM % 1000))
		for f in "$T/random" "$d/f"; do
			dd if="$S/rnd" bs=65536 skip="$skip_to" count="$len" \
				iflag=skip_bytes,count_bytes status=none |
				"$UMM_CLI" pwrite "$f" "$off"
		done
		if [ $((i % 10)) = 9 ]; then
			sz=$(((RANDOM * 32768 + RANDOM) % 450000))
			truncate -s "$sz" "$T/random"
			truncate -s "$sz" "$d/f"
		fi
	done
	expect_eq "$(stat -c %s "$T/random")" "$(stat -c %s "$d/f")" 'size after random writes'
	cmp "$T/random" "$d/f" || fail 'content differs from tmpfs after random writes'
}

test_dir_times_update_like_tmpfs() {
	local d base m1
	d=$(newdir dirtimes)
	for base in "$T/dirtimes" "$d/sub"; do
		mkdir -p "$base"
		touch -d @1000000000 "$base"
		printf x >"$base/f"
		m1=$(stat -c %Y "$base")
		[ "$m1" -gt 1000000000 ] || fail "$base: dir mtime not updated by a create"
		touch -d @1000000000 "$base"
		rm "$base/f"
		m1=$(stat -c %Y "$base")
		[ "$m1" -gt 1000000000 ] || fail "$base: dir mtime not updated by an unlink"
		touch -d @1000000000 "$base"
		mkdir "$base/s"
		m1=$(stat -c %Y "$base")
		[ "$m1" -gt 1000000000 ] || fail "$base: dir mtime not updated by a mkdir"
		touch -d @1000000000 "$base/s"
		chmod 700 "$base/s"
		m1=$(stat -c %Z "$base/s")
		[ "$m1" -gt 1000000000 ] || fail "$base: ctime not updated by chmod"
	done
}

test_lookups_survive_dropped_caches() {
	local d i before
	d=$(newdir forget)
	[ -w /proc/sys/vm/drop_caches ] || skip 'cannot drop the kernel caches here'
	before=$(used_bytes "$M")
	for ((i = 0; i < 50; i++)); do
		printf 'content %s' "$i" >"$d/f$i"
	done
	mkdir -p "$d/a/b/c"
	printf deep >"$d/a/b/c/f"
	hold "$d/f7" '<'
	rm "$d/f7"
	sync
	# Every unused inode is forgotten (FUSE_FORGET); the names must still work.
	echo 2 >/proc/sys/vm/drop_caches
	for ((i = 0; i < 50; i++)); do
		[ "$i" = 7 ] && continue
		expect_eq "content $i" "$(cat "$d/f$i")" "f$i after drop_caches"
	done
	expect_eq deep "$(cat "$d/a/b/c/f")" 'deep buffer after drop_caches'
	expect_errno ENOENT cat "$d/f7"
	expect_eq "content 7" "$(cat "/proc/$held_pid/fd/3")" 'unlinked held buffer after drop_caches'
	unhold "$held_pid"
	echo 2 >/proc/sys/vm/drop_caches
	expect_eq $((before + 50 * 4096)) "$(used_bytes "$M")" 'used_bytes after the forgets'
}

check test_cp_in_and_out_is_byte_identical
check test_cp_within_the_mount_copies_bytes
check test_dd_writes_and_reads_back
check test_dd_notrunc_overwrite_matches_tmpfs
check test_dd_seek_extends_a_filling_buffer
check test_shell_redirection_and_append_while_filling
check test_truncate_sizes_and_resizes_an_unshared_buffer
check test_truncate_keeps_the_bytes_below_the_new_size
check test_fallocate_grows_a_filling_buffer
check test_stat_reports_size_mode_owner_and_blocks
check test_buffer_is_owned_by_its_creator
check test_ls_l_modes_match_tmpfs
check test_chmod_matches_tmpfs
check test_setid_bits_cleared_by_writes_like_tmpfs
check test_chown_matches_tmpfs
check test_touch_and_utimens_match_tmpfs
check test_umask_applies_like_tmpfs
check test_df_reports_the_size_budget
check test_du_counts_the_memory_held
check test_rm_removes_the_name_and_frees_memory
check test_link_symlink_mknod_are_eperm
check test_rmdir_of_nonempty_dir_is_enotempty
check test_names_up_to_255_bytes
check test_inode_numbers_are_distinct
check test_open_excl_on_existing_name_fails
check test_many_entries_list_and_remove
check test_random_writes_match_tmpfs
check test_dir_times_update_like_tmpfs
check test_lookups_survive_dropped_caches
finish
