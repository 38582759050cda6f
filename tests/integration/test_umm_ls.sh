#!/bin/bash
# test_umm_ls.sh - umm-ls, the ls of umm: plain, long, recursive, human and
# JSON listings agree with what was created; -p finds the processes that hold
# a buffer (an open fd, an exported fd, a mapping); paths off the mount, odd
# names, unreadable attributes and entries that vanish mid-listing are handled
# (umm-ls(1)). Needs UMM_LS (meson sets it), UMM_CLI and jq.
# Checks are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317,SC2012
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

: "${UMM_LS:=}"

need_ls() {
	if [ -z "$UMM_LS" ] || [ ! -x "$UMM_LS" ]; then
		fail 'UMM_LS (the umm-ls binary) is not set'
	fi
	command -v jq >/dev/null || skip 'jq is not installed'
}

# A fresh directory of the mount for one check, removed when the check ends.
tdir() {
	local d
	d=$(newdir "$1")
	on_exit "rm -rf '$d'"
	printf '%s' "$d"
}

# The -l line of NAME (a buffer) in the listing of DIR, split into words.
long_line() {
	"$UMM_LS" -l "$1" | awk -v n="$2" '$NF == n'
}

# map_holder FILE [ARGS...]: start "umm_cli map FILE ARGS" in the background
# and wait for its "ready HOW FD"; sets map_pid, map_how, map_fd.
map_pid=
map_how=
map_fd=
map_holder() {
	local out=$UMM_TMP/map.$RANDOM line
	"$UMM_CLI" map "$@" >"$out" 2>"$out.err" </dev/null &
	map_pid=$!
	on_exit "kill $map_pid 2>/dev/null; wait $map_pid 2>/dev/null; rm -f '$out' '$out.err'"
	wait_until 50 "grep -q '^ready ' '$out'" ||
		fail "umm_cli map $* did not get ready: $(cat "$out.err")"
	line=$(head -n 1 "$out")
	map_how=$(awk '{ print $2 }' <<<"$line")
	map_fd=$(awk '{ print $3 }' <<<"$line")
}

test_plain_listing_is_names_with_a_slash_after_directories() {
	need_ls
	local d
	d=$(tdir plain)
	truncate -s 5000 "$d/b"
	truncate -s 4096 "$d/a"
	mkdir "$d/sub" "$d/.hidden"
	: >"$d/.dotbuf"
	expect_eq "$(printf 'a\nb\nsub/')" "$("$UMM_LS" "$d")" 'plain listing'
	expect_eq "$(printf '.dotbuf\n.hidden/\na\nb\nsub/')" "$("$UMM_LS" -a "$d")" 'listing with -a'
	# No operand: the current directory.
	expect_eq "$(printf 'a\nb\nsub/')" "$(cd "$d" && "$UMM_LS")" 'listing of .'
	# A buffer operand lists the buffer, as given.
	expect_eq "$d/a" "$("$UMM_LS" "$d/a")" 'buffer operand'
}

test_long_columns_match_what_was_created() {
	need_ls
	need_cli
	local d w used eff
	d=$(tdir long)
	xset "$d" user.umm.size 64K
	touch "$d/a"
	chmod 640 "$d/a"
	truncate -s 5000 "$d/b"
	xset "$d/b" user.umm.sync device
	chown 65534:65534 "$d/b"
	"$UMM_CLI" export "$d/a" rw >/dev/null
	mkdir "$d/sub"
	xset "$d/sub" user.umm.max_bytes 1M

	read -ra w <<<"$(long_line "$d" a)"
	expect_eq '-rw-r----- root root 65536 memfd cached cpu 0 1 a' "${w[*]}" 'columns of a'
	read -ra w <<<"$(long_line "$d" b)"
	expect_eq "-rw-r--r-- $(id -nu 65534) $(getent group 65534 | cut -d: -f1 || echo 65534) 5000 memfd cached device 0 0 b" \
		"${w[*]}" 'columns of b'
	# Each column is the attribute it names.
	expect_eq "$(xget "$d/b" user.umm.heap)" "${w[4]}" 'heap column'
	expect_eq "$(xget "$d/b" user.umm.sync)" "${w[6]}" 'sync column'
	expect_eq "$(xget "$d/b" user.umm.exports)" "${w[8]}" 'exports column'

	# A directory: used bytes, effective heap/cache/contiguous, then the
	# whole user.umm.effective after the name.
	used=$(xget "$d/sub" user.umm.used_bytes)
	eff=$(xget "$d/sub" user.umm.effective)
	expect_eq "drwxr-xr-x root root $used auto cached - 0 - sub/ [$eff]" \
		"$("$UMM_LS" -l "$d" | grep ' sub/  \[' | tr -s ' ')" 'directory line'
	expect_eq 'total memfd: 2 buffers, 70536 bytes' "$("$UMM_LS" -l "$d" | tail -n 1)" 'totals line'
	# Columns line up: the names of the buffers start in the same column.
	expect_eq 1 "$("$UMM_LS" -l "$d" | grep '^-' | awk '{ print length($0) - length($NF) }' |
		sort -u | wc -l)" 'names in one column'
}

test_recursive_listing_descends_with_headers() {
	need_ls
	local d want
	d=$(tdir rec)
	mkdir -p "$d/x/y" "$d/z"
	truncate -s 4096 "$d/top" "$d/x/in_x" "$d/x/y/in_y"
	want=$(printf '%s\n' "$d:" top x/ z/ '' "$d/x:" in_x y/ '' "$d/x/y:" in_y '' "$d/z:")
	expect_eq "$want" "$("$UMM_LS" -R "$d")" 'recursive listing'
	# Several operands get headers too; buffers come first.
	want=$(printf '%s\n' "$d/top" '' "$d/x:" in_x y/ '' "$d/z:")
	expect_eq "$want" "$("$UMM_LS" "$d/z" "$d/top" "$d/x")" 'several operands'
	expect_eq 'total memfd: 3 buffers, 12288 bytes' "$("$UMM_LS" -lR "$d" | tail -n 1)" \
		'recursive totals'
	# -d lists the directory itself.
	expect_eq "$d/x/" "$("$UMM_LS" -d "$d/x")" '-d'
}

test_json_fields_match_what_was_created() {
	need_ls
	local d j n sum devs
	d=$(tdir json)
	mkdir "$d/c" "$d/c/s" "$d/dev"
	xset "$d/c" user.umm.size 8K
	xset "$d/c" user.umm.max_bytes 1M
	xset "$d/c" user.umm.align 4K
	# Only devices that can import dma-bufs (DRM) can be listed: where there
	# is none (no DRM here), the empty list.
	devs=$(find /dev/dri -maxdepth 1 -name 'card*' 2>/dev/null | sort | head -n 2 | tr '\n' ' ' || true)
	devs=${devs% }
	xset "$d/dev" user.umm.devices "$devs"
	touch "$d/c/a"
	chmod 600 "$d/c/a"
	truncate -s 12345 "$d/c/s/b"
	chmod 2751 "$d/c/s"
	j=$UMM_TMP/json.out
	on_exit "rm -f '$j'"
	"$UMM_LS" -R --json "$d" >"$j"
	jq -e . "$j" >/dev/null || fail 'output is not JSON Lines'
	expect_eq 6 "$(wc -l <"$j")" 'lines: 3 directories, 2 buffers, 1 total'

	# Buffers, field by field.
	n=$(jq -c "select(.path == \"$d/c/a\")" "$j")
	expect_eq buffer "$(jq -r .type <<<"$n")" 'a type'
	expect_eq a "$(jq -r .name <<<"$n")" 'a name'
	expect_eq 8192 "$(jq -r .size <<<"$n")" 'a size'
	expect_eq 0600 "$(jq -r .mode <<<"$n")" 'a mode'
	expect_eq "$(stat -c %i "$d/c/a")" "$(jq -r .ino <<<"$n")" 'a ino'
	expect_eq '0 root 0 root' "$(jq -r '"\(.uid) \(.user) \(.gid) \(.group)"' <<<"$n")" 'a owner'
	expect_eq 'memfd cached cpu false 0' \
		"$(jq -r '"\(.heap) \(.cache) \(.sync) \(.contiguous) \(.exports)"' <<<"$n")" 'a attrs'
	expect_eq null "$(jq -r .dmabuf <<<"$n")" 'a dmabuf'
	expect_eq "$(xget "$d/c/a" user.umm.memfd)" "$(jq -r .memfd <<<"$n")" 'a memfd'
	expect_eq null "$(jq -r .holders <<<"$n")" 'no holders without -p'
	n=$(jq -c "select(.path == \"$d/c/s/b\")" "$j")
	expect_eq '12345 0644 memfd' "$(jq -r '"\(.size) \(.mode) \(.heap)"' <<<"$n")" 'b'

	# Directories: effective constraints as typed values, own ones as text.
	n=$(jq -c "select(.path == \"$d/c\")" "$j")
	expect_eq dir "$(jq -r .type <<<"$n")" 'c type'
	expect_eq '{"size":8192,"align":4096,"contiguous":false,"cache":"cached","heap":"auto","devices":[],"max_bytes":1048576}' \
		"$(jq -c .effective <<<"$n")" 'c effective'
	expect_eq "$(used_bytes "$d/c")" "$(jq -r .used_bytes <<<"$n")" 'c used_bytes'
	expect_eq $((8192 + 16384)) "$(jq -r .used_bytes <<<"$n")" 'c used_bytes value'
	expect_eq '{"size":"8K","align":"4K","max_bytes":"1M"}' "$(jq -c .own <<<"$n")" 'c own'
	n=$(jq -c "select(.path == \"$d/c/s\")" "$j")
	expect_eq '2751 8192 {}' "$(jq -rc '"\(.mode) \(.effective.size) \(.own)"' <<<"$n")" 's'
	n=$(jq -c "select(.path == \"$d/dev\")" "$j")
	expect_eq "[$(jq -cn --arg l "$devs" '$l | split(" ") | map(select(. != ""))'),null]" \
		"$(jq -c '[.effective.devices, .effective.size]' <<<"$n")" 'dev effective devices'

	# The total per heap: count and bytes of the buffers listed.
	expect_eq '{"type":"total","heap":"memfd","buffers":2,"bytes":20537}' \
		"$(jq -c 'select(.type == "total")' "$j")" 'total'
	sum=$(jq -s '[.[] | select(.type == "buffer") | .size] | add' "$j")
	expect_eq 20537 "$sum" 'sum of the sizes'
	expect_eq "$(jq -c 'select(.type == "total")' "$j")" "$(tail -n 1 "$j")" 'total comes last'
}

test_human_sizes_match_ls_h() {
	need_ls
	local d f name bytes shown
	d=$(tdir human)
	# NAME:BYTES:SHOWN (rounded up, one decimal below 10, as ls -h does)
	for f in b3:3:3 k15:1536:1.5K k5:5000:4.9K m1:1048575:1.0M m8:8388608:8.0M \
		m12:12345678:12M; do
		IFS=: read -r name bytes shown <<<"$f"
		truncate -s "$bytes" "$d/$name"
		expect_eq "$shown" "$("$UMM_LS" -lH "$d" | awk -v n="$name" '$NF == n { print $4 }')" \
			"-H size of $name"
		expect_eq "$(ls -lh "$d/$name" | awk '{ print $5 }')" "$shown" "ls -lh size of $name"
	done
	expect_eq 'total memfd: 6 buffers, 21M' "$("$UMM_LS" -lH "$d" | tail -n 1)" '-H total'
	expect_eq "$((3 + 1536 + 5000 + 1048575 + 8388608 + 12345678))" \
		"$("$UMM_LS" --json -H "$d" | jq 'select(.type == "total") | .bytes')" 'JSON ignores -H'
}

test_holders_show_mapping_exported_fd_and_open_fd() {
	need_ls
	need_cli
	local d out j map_only_pid
	d=$(tdir holders)
	xset "$d" user.umm.size 1M
	touch "$d/mapped" "$d/exported" "$d/opened" "$d/idle"

	# A mapping alone: the fd is closed once mapped. Every fd of a memfd
	# buffer maps, in every mode (with passthrough its memfd's pages,
	# without it the mount's page cache): umm_cli needs no export.
	map_holder "$d/mapped" close
	map_only_pid=$map_pid
	expect_eq fuse "$map_how" "mmap of the mount's fd (mode $UMM_MODE)"
	# An exported fd, mapped and kept open.
	map_holder "$d/exported" export
	# A plain open fd of the mount (fd 3 of a shell that then runs sleep).
	hold "$d/opened" '<'

	out=$("$UMM_LS" -p "$d" 2>/dev/null)
	expect_eq "$(printf '%s\n' exported \
		"    $map_pid umm_cli export fd $map_fd" \
		"    $map_pid umm_cli map" \
		idle \
		mapped \
		"    $map_only_pid umm_cli map" \
		opened \
		"    $held_pid sleep fd 3")" "$out" 'text listing with -p'

	j=$("$UMM_LS" -p --json "$d" 2>/dev/null)
	expect_eq "[{\"pid\":$map_only_pid,\"comm\":\"umm_cli\",\"kind\":\"map\"}]" \
		"$(jq -c 'select(.name == "mapped") | .holders' <<<"$j")" 'holders of mapped'
	expect_eq "[{\"pid\":$map_pid,\"comm\":\"umm_cli\",\"kind\":\"export\",\"fd\":$map_fd},{\"pid\":$map_pid,\"comm\":\"umm_cli\",\"kind\":\"map\"}]" \
		"$(jq -c 'select(.name == "exported") | .holders' <<<"$j")" 'holders of exported'
	expect_eq "[{\"pid\":$held_pid,\"comm\":\"sleep\",\"kind\":\"fd\",\"fd\":3}]" \
		"$(jq -c 'select(.name == "opened") | .holders' <<<"$j")" 'holders of opened'
	expect_eq '[]' "$(jq -c 'select(.name == "idle") | .holders' <<<"$j")" 'holders of idle'
	# The daemon holds every buffer's memfd, and is never listed.
	expect_eq 0 "$(jq "[.holders[]? | select(.pid == $UMM_FS_PID)] | length" <<<"$j" |
		awk '{ s += $1 } END { print s + 0 }')" 'daemon not listed'

	# Once the holders are gone, so are the lines.
	unhold "$held_pid"
	kill "$map_only_pid"
	wait "$map_only_pid" 2>/dev/null || true
	expect_eq '[]' "$("$UMM_LS" -p --json "$d/mapped" "$d/opened" 2>/dev/null |
		jq -sc '[.[] | .holders[]?]')" 'no holders after they exit'
}

test_non_umm_paths_are_errors_and_others_still_listed() {
	need_ls
	local d out rc
	d=$(tdir nonumm)
	truncate -s 4096 "$d/f"
	set +e
	out=$("$UMM_LS" /tmp 2>&1 >/dev/null)
	rc=$?
	set -e
	expect_eq 1 "$rc" 'exit status for /tmp'
	expect_eq 'umm-ls: /tmp: not on a umm mount' "$out" 'message for /tmp'
	set +e
	out=$("$UMM_LS" /etc/passwd "$d" "$UMM_TMP/no-such" 2>"$UMM_TMP/err")
	rc=$?
	set -e
	expect_eq 1 "$rc" 'exit status with one good path'
	expect_eq f "$(tail -n 1 <<<"$out")" 'the umm path is still listed'
	grep -qxF 'umm-ls: /etc/passwd: not on a umm mount' "$UMM_TMP/err" ||
		fail "no message for a file off the mount: $(cat "$UMM_TMP/err")"
	grep -qxF "umm-ls: cannot access '$UMM_TMP/no-such': No such file or directory" \
		"$UMM_TMP/err" || fail "no message for a missing path: $(cat "$UMM_TMP/err")"
	rm -f "$UMM_TMP/err"
	expect_errno ENOENT "$UMM_LS" --json "$d/missing"
	# A wrong option: usage, status 2.
	set +e
	"$UMM_LS" --no-such-option >/dev/null 2>&1
	rc=$?
	set -e
	expect_eq 2 "$rc" 'exit status for a bad option'
	expect_eq 'umm-ls 0.1.0' "$("$UMM_LS" --version)" '--version'
}

test_odd_names_are_listed_escaped() {
	need_ls
	local d nl odd j
	d=$(tdir odd)
	nl=$'with space\nand newline'
	odd=$'tab\there "quote" back\\slash \x01 caf\xc3\xa9'
	truncate -s 4096 "$d/$nl" "$d/$odd" "$d/"$'bad\xffbyte'
	# Text: one line each, control characters escaped as ls -b does.
	expect_eq "$(printf '%s\n' 'bad\377byte' 'tab\there "quote" back\\slash \001 café' \
		'with space\nand newline')" "$("$UMM_LS" "$d")" 'escaped text names'
	expect_eq 3 "$("$UMM_LS" -l "$d" | grep -c '^-')" 'one -l line a buffer'
	# JSON: the names come back exactly (valid UTF-8) or byte for byte as
	# U+00XX (invalid bytes).
	j=$("$UMM_LS" --json "$d")
	expect_eq 4 "$(jq -c . <<<"$j" | wc -l)" 'JSON lines'
	jq -j 'select(.type == "buffer") | .name, "\u0000"' <<<"$j" >"$UMM_TMP/names"
	on_exit "rm -f '$UMM_TMP/names'"
	cmp <(printf '%s\0' $'bad\xc3\xbfbyte' "$odd" "$nl") "$UMM_TMP/names" ||
		fail "names do not survive the JSON round trip: $(od -c "$UMM_TMP/names" | head)"
	expect_eq "$d/$nl" "$(jq -r "select(.name == \"with space\\nand newline\") | .path" <<<"$j")" \
		'path of the name with a newline'
	grep -qF '"name":"with space\nand newline"' <<<"$j" || fail 'newline not escaped as \n'
	grep -qF '\u0001' <<<"$j" || fail 'control character not escaped as \u0001'
	grep -qF 'bad\u00ffbyte' <<<"$j" || fail 'invalid byte not escaped as \u00ff'
}

test_unreadable_attributes_are_unknown_for_other_users() {
	need_ls
	local d out j w
	d=$(tdir unread)
	chmod 755 "$d"
	truncate -s 4096 "$d/private" "$d/public"
	chmod 600 "$d/private"
	if ! run_as 65534 test -x "$UMM_LS"; then
		skip "$UMM_LS cannot be run as uid 65534"
	fi
	out=$(run_as 65534 "$UMM_LS" -l "$d")
	read -ra w <<<"$(awk '$NF == "private"' <<<"$out")"
	expect_eq '-rw------- root root 4096 ? ? ? ? ? private' "${w[*]}" 'unreadable buffer'
	read -ra w <<<"$(awk '$NF == "public"' <<<"$out")"
	expect_eq '-rw-r--r-- root root 4096 memfd cached cpu 0 0 public' "${w[*]}" 'readable buffer'
	j=$(run_as 65534 "$UMM_LS" --json "$d")
	expect_eq 'null null 4096' "$(jq -r 'select(.name == "private") | "\(.heap) \(.memfd) \(.size)"' <<<"$j")" \
		'unreadable buffer in JSON'
	expect_eq '{"type":"total","heap":null,"buffers":1,"bytes":4096}' \
		"$(jq -c 'select(.type == "total" and .heap == null)' <<<"$j")" 'unknown heap total'
}

test_listing_survives_names_vanishing_meanwhile() {
	need_ls
	local d churn rc
	d=$(tdir churn)
	mkdir "$d/sub"
	# shellcheck disable=SC2016
	bash -c 'while :; do
		for i in 1 2 3 4 5 6 7 8; do truncate -s 4096 "$1/b$i"; mkdir -p "$1/sub/d$i"; done
		for i in 1 2 3 4 5 6 7 8; do rm -f "$1/b$i"; rmdir "$1/sub/d$i"; done
	done' churn "$d" </dev/null >/dev/null 2>&1 &
	churn=$!
	on_exit "kill $churn 2>/dev/null; wait $churn 2>/dev/null"
	for _ in $(seq 40); do
		set +e
		"$UMM_LS" -lRp --json "$d" >"$UMM_TMP/churn.out" 2>/dev/null
		rc=$?
		set -e
		[ "$rc" -le 1 ] || fail "umm-ls exited with status $rc during the churn"
		jq -e . "$UMM_TMP/churn.out" >/dev/null || fail 'output during the churn is not JSON'
		"$UMM_LS" -lR "$d" >/dev/null 2>&1 || [ $? -le 1 ] || fail 'text listing failed'
	done
	rm -f "$UMM_TMP/churn.out"
}

test_colour_only_on_a_terminal_without_no_color() {
	need_ls
	local d
	d=$(tdir colour)
	mkdir "$d/sub"
	command -v script >/dev/null || skip 'script(1) is not installed'
	if "$UMM_LS" "$d" | grep -q $'\033'; then
		fail 'colour in piped output'
	fi
	script -qec "env -u NO_COLOR '$UMM_LS' '$d'" /dev/null | grep -q $'\033\\[1;34msub' ||
		fail 'no colour on a terminal'
	if script -qec "env NO_COLOR=1 '$UMM_LS' '$d'" /dev/null | grep -q $'\033'; then
		fail 'colour on a terminal with NO_COLOR set'
	fi
}

check test_plain_listing_is_names_with_a_slash_after_directories
check test_long_columns_match_what_was_created
check test_recursive_listing_descends_with_headers
check test_json_fields_match_what_was_created
check test_human_sizes_match_ls_h
check test_holders_show_mapping_exported_fd_and_open_fd
check test_non_umm_paths_are_errors_and_others_still_listed
check test_odd_names_are_listed_escaped
check test_unreadable_attributes_are_unknown_for_other_users
check test_listing_survives_names_vanishing_meanwhile
check test_colour_only_on_a_terminal_without_no_color
finish
