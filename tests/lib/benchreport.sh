# SPDX-License-Identifier: GPL-2.0
# make bench: the host's report of the guest's BENCH lines.
# Sourced by tests/run.

# zero_report ABI: from QEMU's trace of CPU writes into MMIO, the writes
# into the NVMe CMB between the guest's two marker writes (p2pmem_bench
# zero): the zeroing of the pages it mapped.  Their number and bytes, and
# whether the bytes add up to those pages, so nothing else was counted.
zero_report() {
	local abi=$1 w=$OUT/$1/plain pages line
	pages=$(sed -n 's/^BENCH zero-pages p2pmem \([0-9]*\) pages.*/\1/p' "$w/console.log")
	line=$(awk '
	$NF == "\047nvme-cmb\047" {
		for (i = 1; i < NF; i++) {
			if ($i == "value") v = $(i + 1)
			if ($i == "size") s = $(i + 1)
		}
		if (v == "0x7032707a65726f31") { on = 1; n = 0; b = 0; next }
		if (v == "0x7032707a65726f32") { if (on) { print n, b; exit } }
		if (on) { n++; b += s }
	}' "$w/trace.log" 2>/dev/null)
	set -- $line
	if [ -z "$pages" ] || [ $# != 2 ] || [ "$2" != $((pages * 4096)) ]; then
		say "zeroing trace: ${pages:-no} pages mapped, ${2:-no} bytes written in ${1:-no} writes"
		result 1 "[$abi] the CMB's zeroing writes are found in QEMU's trace"
		return
	fi
	result 0 "[$abi] the CMB's zeroing writes are found in QEMU's trace"
	printf '# %-22s zeroing %d pages of the CMB: %d CPU writes, %d bytes, %s bytes per write (goal: 8 or more)\n' \
		"$abi" "$pages" "$1" "$2" "$(awk -v n="$1" -v b="$2" 'BEGIN { printf "%.2f", b / n }')" |
		tee -a "$OUT/bench.txt"
	host_check "[$abi] zeroing writes 8 or more bytes per CPU write" [ $(($2 / $1)) -ge 8 ]
}

# bench_report ABI: the guest's BENCH lines as one row per workload, with
# ratios (absolute times under TCG say little; ratios within one VM do).
bench_report() {
	local abi=$1 w=$OUT/$1/plain
	if grep -q "BENCH-ERROR" "$w/console.log" || ! grep -q "^GUEST-DONE" "$w/console.log"; then
		grep -E "BENCH-ERROR|Error|error" "$w/console.log" | sed 's/^/#   /'
		result 1 "[$abi] benchmarks ran"
		return
	fi
	result 0 "[$abi] benchmarks ran"
	awk -v abi="$abi" '
	/^BENCH (zero-pages|flat-mmap|frag-mmap) / { next }
	/^BENCH / { v[$2, $3] = $4; u[$2] = $5; w[$2] = 1 }
	function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "n/a" }
	END {
		printf "# %-22s %-9s %10s %10s %10s %13s %17s\n", abi, "workload", "p2pmem", "allocate", "anon RAM", "p2pmem/anon", "p2pmem/allocate"
		for (k in w) {
			printf "# %-22s %-9s %10s %10s %10s %13s %17s   (%s)\n", "", k, v[k, "p2pmem"], \
				(v[k, "allocate"] == "" ? "n/a" : v[k, "allocate"]), (v[k, "anon"] == "" ? "n/a" : v[k, "anon"]), \
				r(v[k, "p2pmem"], v[k, "anon"]), r(v[k, "p2pmem"], v[k, "allocate"]), u[k]
		}
	}' "$w/console.log" | tee -a "$OUT/bench.txt"
	awk -v abi="$abi" '
	/^BENCH (flat|frag)-mmap p2pmem / { v[$2] = $4 }
	/^BENCH-INFO / { sub(/^BENCH-INFO /, ""); printf "# %-22s %s\n", abi, $0 }
	END {
		if (v["flat-mmap"] > 0)
			printf "# %-22s mmap of half the BAR, every other page taken vs none: %s ms vs %s ms (%.2fx)\n", \
				abi, v["frag-mmap"], v["flat-mmap"], v["frag-mmap"] / v["flat-mmap"]
	}' "$w/console.log" | tee -a "$OUT/bench.txt"
	zero_report "$abi"
}

