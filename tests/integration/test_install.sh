#!/bin/bash
# test_install.sh - `meson install` gives a working, complete tree.
#
# Installs the build dir into a temporary DESTDIR (no rebuild), then checks:
#   - every file lands under the prefix, nothing elsewhere;
#   - sbin/umm-fs, bin/umm-ls, bin/umm-demo and bin/umm-bench (those built);
#   - libumm.so.X.Y.Z with its soname links, exporting only the public API;
#   - include/umm.h (the source's), umm.pc;
#   - the man pages (umm-ls.1 where its source exists, umm_open.3 and its
#     links where man/meson.build makes them, umm.7, umm-fs.8);
#   - umm-fs.service, whose ExecStart= is the installed umm-fs, checked by
#     systemd-analyze verify where it exists;
#   - a client built only from the installed umm.pc, header and library, run
#     against the installed library (umm_sync on a memfd, umm_open's EINVAL
#     and umm_export's EBADF/EXDEV: no mount needed);
#   - every installed program answers --help and --version with status 0 and
#     its own name.
#
# Environment (meson sets it): MESON_BUILD_ROOT, MESON_SOURCE_ROOT, UMM_FS
# (the build tree's umm-fs: its libfuse directory is taken from ldd), UMM_LS
# and UMM_DEMO (may be unset or not built yet).
# Exit 77 (skip) only when meson is missing.
set -euo pipefail

me=test_install
npass=0
nfail=0

say() { printf '%s: %s\n' "$me" "$*"; }
ok() {
	printf 'ok   %s\n' "$*"
	npass=$((npass + 1))
}
bad() {
	printf 'FAIL %s\n' "$*"
	nfail=$((nfail + 1))
}

if ! command -v meson >/dev/null; then
	say 'SKIP: meson is missing'
	exit 77
fi
: "${MESON_BUILD_ROOT:?MESON_BUILD_ROOT is not set: run this test through meson test}"
: "${MESON_SOURCE_ROOT:?MESON_SOURCE_ROOT is not set: run this test through meson test}"
: "${UMM_FS:?UMM_FS is not set}"
UMM_LS=${UMM_LS:-}
UMM_DEMO=${UMM_DEMO:-}
UMM_BENCH=${UMM_BENCH:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/umm-install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
dest=$tmp/dest

# The install layout, from the build dir's options.
opt() {
	meson introspect --buildoptions "$MESON_BUILD_ROOT" |
		python3 -c 'import json, sys
want = sys.argv[1]
for o in json.load(sys.stdin):
    if o["name"] == want:
        print(o["value"])' "$1"
}
version=$(meson introspect --projectinfo "$MESON_BUILD_ROOT" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
prefix=$(opt prefix)
# Relative dirs are under the prefix; absolute ones stand alone.
dir_of() {
	local d
	d=$(opt "$1")
	case $d in
	/*) printf '%s' "$d" ;;
	*) printf '%s/%s' "$prefix" "$d" ;;
	esac
}
sbindir=$(dir_of sbindir)
bindir=$(dir_of bindir)
libdir=$(dir_of libdir)
includedir=$(dir_of includedir)
mandir=$(dir_of mandir)
say "prefix $prefix, libdir $libdir, version $version"

if ! out=$(meson install -C "$MESON_BUILD_ROOT" --destdir "$dest" --no-rebuild --quiet 2>&1); then
	printf '%s\n' "$out"
	bad 'meson install into a DESTDIR'
	exit 1
fi
ok "meson install --destdir (files: $(find "$dest" -type f -o -type l | wc -l))"

# --- the tree ---------------------------------------------------------------

outside=$(cd "$dest" && find . \( -type f -o -type l \) ! -path ".$prefix/*")
if [ -z "$outside" ]; then
	ok "every installed file is under $prefix"
else
	bad "files installed outside the prefix $prefix: $outside"
fi

# expect_file KIND PATH: an installed file (in DESTDIR) of that kind.
expect_file() {
	local kind=$1 f=$dest$2 good=0
	case $kind in
	exe) [ -f "$f" ] && [ -x "$f" ] && good=1 ;;
	file) [ -f "$f" ] && [ ! -L "$f" ] && good=1 ;;
	esac
	if [ $good = 1 ]; then
		ok "installed $2"
	else
		bad "missing or not a $kind: $2"
	fi
}

expect_file exe "$sbindir/umm-fs"
for tool in "umm-ls:$UMM_LS" "umm-demo:$UMM_DEMO" "umm-bench:$UMM_BENCH"; do
	name=${tool%%:*} built=${tool#*:}
	if [ -n "$built" ] && [ -e "$built" ]; then
		expect_file exe "$bindir/$name"
	else
		say "note: $name is not built; not looked for"
	fi
done
expect_file file "$includedir/umm.h"
if cmp -s "$MESON_SOURCE_ROOT/include/umm.h" "$dest$includedir/umm.h"; then
	ok 'installed umm.h is include/umm.h'
else
	bad 'installed umm.h differs from include/umm.h'
fi

# The library: the real file, libumm.so.0 -> it (the soname), libumm.so -> that.
lib=$dest$libdir
real=$(cd "$lib" 2>/dev/null && find . -maxdepth 1 -type f -name 'libumm.so.*' -printf '%f\n' | head -1)
if [ -z "$real" ]; then
	bad "no libumm.so.* file in $libdir"
else
	ok "installed $libdir/$real"
	soname=$(readelf -d "$lib/$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	if [ -L "$lib/$soname" ] && [ "$(readlink -f "$lib/$soname")" = "$(readlink -f "$lib/$real")" ]; then
		ok "$soname (the soname) links to $real"
	else
		bad "soname link $libdir/${soname:-?} is missing or does not reach $real"
	fi
	if [ -L "$lib/libumm.so" ] && [ "$(readlink -f "$lib/libumm.so")" = "$(readlink -f "$lib/$real")" ]; then
		ok "libumm.so (the link-time name) links to $real"
	else
		bad "libumm.so is missing or does not reach $real"
	fi
	syms=$(nm -D --defined-only "$lib/$real" | awk '$2 ~ /^[TDBRW]$/ { sub(/@.*/, "", $3); print $3 }' | sort | tr '\n' ' ')
	if [ "$syms" = 'umm_export umm_open umm_sync ' ]; then
		ok 'libumm exports umm_export, umm_open, umm_sync and nothing else'
	else
		bad "libumm exports: $syms"
	fi
fi

pc=$(find "$dest" -name umm.pc -path '*/pkgconfig/*' | head -1)
if [ -n "$pc" ]; then
	ok "installed ${pc#"$dest"}"
else
	bad 'no umm.pc under any pkgconfig dir'
fi

# Man pages.
man_pages=(man1/umm-ls.1 man1/umm-demo.1 man1/umm-bench.1 man3/umm_open.3 man7/umm.7 man8/umm-fs.8)
for p in "${man_pages[@]}"; do
	expect_file file "$mandir/$p"
done
# umm_export(3) and umm_sync(3), once man/meson.build installs them.
for p in umm_export umm_sync; do
	if grep -q "$p\.3" "$MESON_SOURCE_ROOT/man/meson.build"; then
		if [ -L "$dest$mandir/man3/$p.3" ] &&
			[ "$(readlink -f "$dest$mandir/man3/$p.3")" = "$(readlink -f "$dest$mandir/man3/umm_open.3")" ]; then
			ok "man3/$p.3 links to umm_open.3"
		else
			bad "man3/$p.3 is missing or does not link to umm_open.3"
		fi
	fi
done

# The systemd unit.
unit=$(find "$dest" -name umm-fs.service)
if [ "$(printf '%s\n' "$unit" | grep -c .)" != 1 ]; then
	bad "expected one umm-fs.service, found: ${unit:-none}"
else
	ok "installed ${unit#"$dest"}"
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	if [ "$exec_start" = "$sbindir/umm-fs -f /umm" ]; then
		ok "the unit runs the installed umm-fs: ExecStart=$exec_start"
	else
		bad "ExecStart=$exec_start, expected $sbindir/umm-fs -f /umm"
	fi
	if grep -q '@[a-z_]*@' "$unit"; then
		bad "unsubstituted @...@ left in the unit: $(grep '@[a-z_]*@' "$unit")"
	fi
	if command -v systemd-analyze >/dev/null; then
		# Check the unit as it would run, but with the installed tree's paths.
		mkdir "$tmp/unit"
		sed "s|$sbindir/umm-fs|$dest$sbindir/umm-fs|g" "$unit" >"$tmp/unit/umm-fs.service"
		if out=$(MANPATH=$dest$mandir systemd-analyze verify "$tmp/unit/umm-fs.service" 2>&1) &&
			[ -z "$out" ]; then
			ok 'systemd-analyze verify umm-fs.service: clean'
		else
			bad "systemd-analyze verify umm-fs.service: $out"
		fi
	else
		say 'note: no systemd-analyze here; unit not verified'
	fi
fi

# --- a client built from the installed files only ---------------------------

cat >"$tmp/client.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umm.h>

static int failed;

static void expect(int cond, const char *what)
{
	printf("%s %s\n", cond ? "ok  " : "FAIL", what);
	if (!cond)
		failed = 1;
}

static int err_is(int ret, int want)
{
	return ret == -1 && errno == want;
}

int main(void)
{
	char line[4096], where[4096] = "";
	int memfd = memfd_create("umm-install-test", MFD_CLOEXEC);
	int pipefd[2];
	FILE *maps;

	expect(memfd >= 0, "memfd_create");
	expect(umm_sync(memfd, UMM_SYNC_START | UMM_SYNC_RW) == 0, "umm_sync START|RW on a memfd");
	expect(umm_sync(memfd, UMM_SYNC_END | UMM_SYNC_RW) == 0, "umm_sync END|RW on a memfd");
	expect(err_is(umm_sync(memfd, UMM_SYNC_END), EINVAL), "umm_sync without READ/WRITE: EINVAL");
	expect(err_is(umm_open("/nonexistent", O_RDWR | O_CREAT), EINVAL),
	       "umm_open with O_CREAT: EINVAL");
	expect(err_is(umm_open("/nonexistent", O_ACCMODE), EINVAL),
	       "umm_open with O_ACCMODE: EINVAL");
	expect(err_is(umm_export(-1), EBADF), "umm_export(-1): EBADF");
	expect(pipe(pipefd) == 0, "pipe");
	expect(err_is(umm_export(pipefd[0]), EXDEV), "umm_export of a pipe: EXDEV");

	maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(line, sizeof(line), maps)) {
		char *p = strchr(line, '/');

		if (p && strstr(p, "/libumm.so")) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(where, sizeof(where), "%s", p);
			break;
		}
	}
	if (maps)
		fclose(maps);
	printf("libumm: %s\n", where);
	return failed;
}
EOF

pcdir=$(dirname "${pc:-/nonexistent/umm.pc}")
# Only the installed umm.pc is visible, and its paths are taken inside DESTDIR.
export PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH='' PKG_CONFIG_SYSROOT_DIR=$dest
if pcflags=$(pkg-config --cflags --libs umm 2>&1); then
	ok "pkg-config --cflags --libs umm: $pcflags"
	got=$(pkg-config --modversion umm)
	if [ "$got" = "$version" ]; then
		ok "umm.pc version $got"
	else
		bad "umm.pc version is $got, the project's $version"
	fi
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	if out=$(cd "$tmp" && ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -o client client.c $pcflags 2>&1); then
		ok 'a client compiles and links against the installed header and library'
		if out=$(LD_LIBRARY_PATH=$lib "$tmp/client" 2>&1); then
			ok 'the client runs: umm_sync on a memfd, umm_open EINVAL, umm_export EBADF/EXDEV'
		else
			bad "the client failed: $out"
		fi
		printf '%s\n' "$out" | sed 's/^/    /'
		loaded=$(printf '%s\n' "$out" | sed -n 's/^libumm: //p')
		case $loaded in
		"$lib"/*) ok "the client used the installed library ($loaded)" ;;
		*) bad "the client loaded libumm from '$loaded', not from $lib" ;;
		esac
	else
		bad "building a client with the installed umm.pc failed: $out"
	fi
	if command -v c++ >/dev/null; then
		# shellcheck disable=SC2086
		if out=$(printf '#include <umm.h>\nint main() { return umm_sync(-1, UMM_SYNC_RW) == -1 ? 0 : 1; }\n' |
			c++ -x c++ -Wall -Werror -o "$tmp/client++" - $pcflags 2>&1) &&
			LD_LIBRARY_PATH=$lib "$tmp/client++"; then
			ok 'umm.h works from C++ (extern "C")'
		else
			bad "a C++ client failed: $out"
		fi
	fi
else
	bad "pkg-config cannot use the installed umm.pc: $pcflags"
fi
unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# --- every installed program: --help and --version ---------------------------

# The installed umm-fs has no run path to a libfuse built in .deps: take the
# directory the build tree's binary finds it in.
fuse_dir=$(ldd "$UMM_FS" | awk '$1 ~ /^libfuse3\.so/ && $3 ~ /^\// { sub(/\/[^\/]*$/, "", $3); print $3 }')
progs=()
for d in "$dest$bindir" "$dest$sbindir"; do
	[ -d "$d" ] || continue
	while IFS= read -r -d '' f; do
		progs+=("$f")
	done < <(find "$d" -maxdepth 1 -type f -perm -u+x -print0)
done
[ ${#progs[@]} -gt 0 ] || bad 'no installed programs'
for f in "${progs[@]}"; do
	name=$(basename "$f")
	for arg in --help --version; do
		rc=0
		out=$(LD_LIBRARY_PATH=$lib${fuse_dir:+:$fuse_dir} "$f" "$arg" </dev/null 2>&1) || rc=$?
		if [ $rc != 0 ]; then
			bad "$name $arg: exit status $rc: $out"
		elif ! grep -qF -- "$name" <<<"$out"; then
			bad "$name $arg does not name $name: $(head -3 <<<"$out")"
		elif [ "$arg" = --version ] && ! grep -qF -- "$version" <<<"$out"; then
			bad "$name --version does not give the version $version: $out"
		else
			ok "$name $arg: $(head -1 <<<"$out")"
		fi
	done
done

say "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
