#!/bin/bash
# run-fuzz.sh - build one libFuzzer target with clang and run it for a while.
#
# Usage: tests/fuzz/run-fuzz.sh TARGET [SECONDS]
#        tests/fuzz/run-fuzz.sh TARGET --merge      (grow the corpus, see below)
#        tests/fuzz/run-fuzz.sh TARGET FILE...      (run the target on inputs once)
#
# TARGET is "parse" (alloc/parse.c, tests/fuzz/fuzz_parse.c) or "proto"
# (lib/proto.c, tests/fuzz/fuzz_proto.c). The target is compiled straight from
# those sources with clang -fsanitize=fuzzer,address,undefined into a temp dir
# (no meson build dir needed), then runs SECONDS seconds (default: $FUZZ_SECONDS,
# else 60 when CI=true, else 10) starting from tests/fuzz/corpus/TARGET.
# New inputs it finds go to the temp dir, not to the repo; --merge instead
# adds the ones that reach new code to tests/fuzz/corpus/TARGET (run it by hand,
# then commit them).
#
# Exit status 0 when no input crashed. On a crash (a sanitizer report or a
# failed check), it prints the crashing input in hex, keeps it as
# tests/fuzz/crash-TARGET-<sha1> and exits 1. Exit 77 (skip) when clang or
# its libFuzzer runtime is missing.

set -uo pipefail

say() { printf 'run-fuzz: %s\n' "$*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${1:-}
shift || true

case $target in
parse) srcs=("$root/alloc/parse.c") ;;
proto) srcs=("$root/lib/proto.c") ;;
*)
	say "usage: run-fuzz.sh parse|proto [SECONDS | --merge | FILE...]"
	exit 2
	;;
esac
corpus=$here/corpus/$target
dict=$here/$target.dict

if [[ ${CI:-} == true ]]; then
	seconds=${FUZZ_SECONDS:-60}
else
	seconds=${FUZZ_SECONDS:-10}
fi
merge=0
files=()
if [[ $# -eq 1 && $1 =~ ^[0-9]+$ ]]; then
	seconds=$1
elif [[ $# -eq 1 && $1 == --merge ]]; then
	merge=1
elif [[ $# -gt 0 ]]; then
	files=("$@")
fi

clang=${CLANG:-clang}
if ! command -v "$clang" >/dev/null; then
	say "SKIP: no $clang (scripts/setup installs clang)"
	exit 77
fi

tmp=$(mktemp -d /tmp/umm-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

bin=$tmp/fuzz_$target
if ! out=$("$clang" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-I"$root/include" -I"$root/alloc" -I"$root/lib" \
	-o "$bin" "$here/fuzz_$target.c" "${srcs[@]}" 2>&1); then
	printf '%s\n' "$out" >&2
	if grep -q 'libclang_rt\.fuzzer\|cannot find.*fuzzer' <<<"$out"; then
		say "SKIP: clang has no libFuzzer runtime (Debian: libclang-rt-14-dev)"
		exit 77
	fi
	say "FAIL: building fuzz_$target failed"
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

opts=(-artifact_prefix="$tmp/" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
[[ -f $dict ]] && opts+=(-dict="$dict")

if [[ ${#files[@]} -gt 0 ]]; then
	"$bin" "${opts[@]}" "${files[@]}"
	exit
fi
if [[ $merge -eq 1 ]]; then
	mkdir "$tmp/new"
	"$bin" "${opts[@]}" -max_total_time="$seconds" "$tmp/new" "$corpus" || exit 1
	"$bin" "${opts[@]}" -merge=1 "$corpus" "$tmp/new"
	exit
fi

mkdir "$tmp/new"
say "fuzz_$target: ${seconds}s from $(find "$corpus" -type f | wc -l) seeds in ${corpus#"$root"/}"
rc=0
"$bin" "${opts[@]}" -max_total_time="$seconds" "$tmp/new" "$corpus" >"$tmp/log" 2>&1 || rc=$?
if [[ $rc -eq 0 ]]; then
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done )' "$tmp/log" >&2
	say "fuzz_$target: OK"
	exit 0
fi

tail -n 60 "$tmp/log" >&2
shopt -s nullglob
crashes=("$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*)
if [[ ${#crashes[@]} -eq 0 ]]; then
	say "FAIL: fuzz_$target exited with status $rc and left no crashing input"
	exit 1
fi
for c in "${crashes[@]}"; do
	keep=$here/${c##*/}
	keep=${keep/\/crash-/\/crash-$target-}
	cp "$c" "$keep"
	say "FAIL: fuzz_$target: crashing input ($(wc -c <"$c") bytes), kept as ${keep#"$root"/}:"
	od -An -tx1 -v "$c" >&2
	say "repeat it with: tests/fuzz/run-fuzz.sh $target ${keep#"$root"/}"
done
exit 1
