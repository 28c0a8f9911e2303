# SPDX-License-Identifier: GPL-2.0
# Building the module: compiler, build roots, W=1 + sparse, conftest, the host-side unit test.
# Sourced by tests/run.

# kernel_cc ABI: the compiler the kernel was built with, as its config names
# it (gcc-12 for Debian 12's kernels, x86_64-linux-gnu-gcc-16 for sid's).
kernel_cc() {
	sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\).*/\1/p' \
		"$CACHE/kernels/$1/root/usr/src/linux-headers-$1/.config"
}

# build_root ABI: a root of the kernel's own suite with its headers and the
# compiler they were built with, for kernels whose compiler (and the glibc
# its kbuild tools need) the host does not have.  Made once per ABI with
# mmdebstrap and kept in the cache; older roots of that suite are dropped.
build_root() {
	local abi=$1 suite r=$CACHE/buildroot-$1 d o
	suite=$(cat "$CACHE/kernels/$abi/suite")
	if [ ! -f "$r/complete" ]; then
		say "making a $suite build root for $abi (mmdebstrap)" >&2
		rm -rf "$r"
		mmdebstrap --quiet --variant=apt \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--include="make,sparse,linux-headers-$abi" \
			"$suite" "$r" "$MIRROR" >"$OUT/mmdebstrap.log" 2>&1 ||
			{ cat "$OUT/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
		touch "$r/complete"
		for d in "$CACHE"/buildroot-*; do
			o=${d#"$CACHE"/buildroot-}
			[ "$o" != "$abi" ] && [ "$(cat "$CACHE/kernels/$o/suite" 2>/dev/null)" = "$suite" ] &&
				rm -rf "$d"
		done
	fi
	echo "$r"
}

# needs_build_root ABI: the host lacks the compiler ABI was built with.
needs_build_root() {
	! command -v "$(kernel_cc "$1")" >/dev/null
}

# kbuild ABI DIR ARGS...: run make for ABI's headers on the sources in DIR,
# on the host if it has the kernel's compiler, else in a build root.
kbuild() {
	local abi=$1 dir=$2 r
	shift 2
	if needs_build_root "$abi"; then
		r=$(locked buildroot build_root "$abi") || return 1
		# One directory per run: two checkouts may build in one root.
		local b=build-$$ rc=0
		rm -rf "${r:?}/$b" && cp -r "$dir" "$r/$b"
		unshare -m --fork sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' \
			sh "$r" "$r" make -C "/$b" KDIR="/usr/src/linux-headers-$abi" "$@" &&
			cp "$r/$b/p2pmem.ko" "$dir/" || rc=1
		rm -rf "${r:?}/$b"
		return $rc
	else
		make -C "$dir" KDIR="$CACHE/kernels/$abi/root/usr/src/linux-headers-$abi" "$@"
	fi
}

# build_module ABI: W=1 + sparse build in a private copy of the sources.
build_module() {
	local abi=$1 dir=$OUT/$1/module log
	rm -rf "$dir" && mkdir -p "$dir"
	make -s -C "$ROOT" dist-src DEST="$dir"
	log=$dir/build.log
	! needs_build_root "$abi" ||
		say "building in a $(cat "$CACHE/kernels/$abi/suite") build root: the host has no $(kernel_cc "$abi")"
	if kbuild "$abi" "$dir" W=1 C=1 >"$log" 2>&1; then
		result 0 "[$abi] p2pmem.ko builds"
	else
		sed 's/^/#   /' "$log"
		result 1 "[$abi] p2pmem.ko builds"
		return 1
	fi
	# Any compiler or sparse diagnostic about our sources is a failure.
	if grep -iE "(warning|error):" "$log" | grep -v "Skipping BTF" >"$dir/diag"; then
		sed 's/^/#   /' "$dir/diag"
		result 1 "[$abi] W=1 and sparse are clean"
	else
		result 0 "[$abi] W=1 and sparse are clean"
	fi
	needs_build_root "$abi" || conftest_checks "$abi" "$dir"
}

# conftest_checks ABI DIR: the probes answer the same whatever flags the
# caller gives make (W=1 and -Werror once made every probe fail, and the
# module silently took the pre-5.17 branches), and a kernel tree they
# cannot compile against fails the build instead of answering "no".
conftest_checks() {
	local abi=$1 dir=$2 kdir c
	kdir=$CACHE/kernels/$abi/root/usr/src/linux-headers-$abi
	c=$OUT/$abi/conftest
	rm -rf "$c" && mkdir -p "$c"
	make -s -C "$ROOT" dist-src DEST="$c"
	make -s -C "$c" conftest KDIR="$kdir" W=1 KCFLAGS=-Werror >"$c/log" 2>&1 || true
	host_check "[$abi] conftest: W=1 KCFLAGS=-Werror give the same answers as the module build" \
		cmp -s "$c/conftest.h" "$dir/conftest.h"
	grep -c '^#define' "$dir/conftest.h" | sed 's/^/# probes that said yes: /'
	rm -f "$c/conftest.h" "$c/.conftest.kdir"
	host_check "[$abi] conftest: a kernel tree the probes cannot use fails the build" \
		sh -c '! make -s -C "$1" conftest KDIR=/nonexistent >"$1/log2" 2>&1 && test ! -e "$1/conftest.h"' sh "$c"
}

# unpack_ko SRC DST: a module file, decompressed if the kernel's config
# had it compressed (.ko.xz, .ko.zst).
unpack_ko() {
	case $1 in
	*.xz) xz -dc "$1" >"$2" ;;
	*.zst) zstd -qdc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# ---- host-side unit tests --------------------------------------------------
# host_tap LABEL: a host test program's TAP lines (stdin) as results.
host_tap() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) result 0 "[host] $1: ${line#ok - }" ;;
		"not ok - "*) result 1 "[host] $1: ${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		esac
	done
}

# host_run NAME PROG: a host test program in $OUT, its TAP reported under
# NAME, and whether it ran to the end (a crash or an AddressSanitizer stop
# shows its first lines).
host_run() {
	local rc=0
	"$OUT/$2" >"$OUT/$2.log" 2>&1 || rc=$?
	host_tap "$1" <"$OUT/$2.log"
	[ $rc = 0 ] || grep -E 'ERROR: AddressSanitizer|READ of size|#[01] ' "$OUT/$2.log" | sed 's/^/#   /'
	result "$([ $rc = 0 ] && echo 0 || echo 1)" "[host] $1: the test ran to the end (status $rc)"
}

# host_decoder: the module's NVMe CMB decoder (p2pmem/nvme_cmb.h), built
# for the host, on the spec's edge cases.
host_decoder() {
	host_run "CMB decoder" nvme_cmb_test
}

# host_cli_json: the CLI's JSON strings (tools/json.h) on hostile bytes,
# each compared with the JSON it must give, and the whole document checked
# by json_check, the strict validator the guest uses.
host_cli_json() {
	local rc=0
	"$OUT/cli_json_test" >"$OUT/cli_json_test.json" 2>"$OUT/cli_json_test.log" || rc=$?
	host_tap "CLI JSON" <"$OUT/cli_json_test.log"
	result "$([ $rc = 0 ] && echo 0 || echo 1)" "[host] CLI JSON: the test ran to the end (status $rc)"
	"$OUT/json_check" <"$OUT/cli_json_test.json" >"$OUT/json_check.log" 2>&1 && rc=0 || rc=1
	[ $rc = 0 ] || sed 's/^/#   /' "$OUT/json_check.log"
	result $rc "[host] CLI JSON: the document of every case is valid JSON (json_check)"
}

# host_sysfs: the tools' one sysfs reader (tools/sysfs.c) on temporary
# files: empty, exact fit, a line longer than the buffer, numbers to refuse.
host_sysfs() {
	host_run "sysfs reader" sysfs_test
}

# host_reach_line: libp2pmem's reach line under AddressSanitizer, on a
# verdict[] the kernel filled to its end without a NUL.
host_reach_line() {
	host_run "libp2pmem reach" reach_line_test
}

# host_cli: the CLI built for the host, where p2pmem is not loaded ("list"
# still runs: [] or the host's devices, status 0): a failed write to stdout
# is an error, and options follow the command whatever the environment.
host_cli() {
	local t=$OUT/host-tools rc out a
	if ! make -s -C "$ROOT/tools" OUT="$t" >"$OUT/host-tools.log" 2>&1; then
		sed 's/^/#   /' "$OUT/host-tools.log" | tail -n 20
		result 1 "[host] CLI: the tools build on the host"
		return
	fi
	out=$(LD_LIBRARY_PATH=$t "$t/p2pmem" list --json 2>"$OUT/host-cli.err") && rc=0 || rc=$?
	case $rc:$out in 0:"["*) rc=0 ;; *) echo "# got status $rc: $out"; sed 's/^/#   /' "$OUT/host-cli.err"; rc=1 ;; esac
	result $rc "[host] CLI: p2pmem list --json prints a JSON array, status 0"
	out=$(POSIXLY_CORRECT=1 LD_LIBRARY_PATH=$t "$t/p2pmem" list --json 2>"$OUT/host-cli.err") && rc=0 || rc=$?
	case $rc:$out in 0:"["*) rc=0 ;; *) echo "# got status $rc: $out"; sed 's/^/#   /' "$OUT/host-cli.err"; rc=1 ;; esac
	result $rc "[host] CLI: with POSIXLY_CORRECT=1, p2pmem list --json takes --json after the command"
	for a in "list --json" "list -t --json" "list -t"; do
		LD_LIBRARY_PATH=$t "$t/p2pmem" $a >/dev/full 2>"$OUT/host-cli.err" && rc=0 || rc=$?
		[ $rc != 0 ] && [ -s "$OUT/host-cli.err" ] && rc=0 || { echo "# got status $rc"; rc=1; }
		result $rc "[host] CLI: p2pmem $a >/dev/full fails with a message (lost output is an error)"
	done
}
