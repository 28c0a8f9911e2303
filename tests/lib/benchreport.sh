# SPDX-License-Identifier: GPL-2.0
# make bench: the host's report of the guest's BENCH lines.
# Sourced by tests/run.

# zero_report ABI: from QEMU's trace of CPU writes into MMIO, the writes
# into the NVMe CMB between each pair of the guest's marker writes
# (p2pmem_bench zero, once per round): the zeroing of its pages, by the
# faults that map them (kernel backend) or by the background zeroing once
# they are given back (native backend).
# Their number and bytes, whether the bytes add up to those pages (so
# nothing else was counted), and whether every round counted the same.
zero_report() {
	local abi=$1 w=$OUT/$1/plain pages rounds counts
	pages=$(sed -n 's/^BENCH zero-pages p2pmem \([0-9]*\) pages.*/\1/p' "$w/console.log" | sort -u)
	rounds=$(grep -c '^BENCH zero-pages p2pmem ' "$w/console.log") || true
	counts=$(awk '
	$NF == "\047nvme-cmb\047" {
		for (i = 1; i < NF; i++) {
			if ($i == "value") v = $(i + 1)
			if ($i == "size") s = $(i + 1)
		}
		if (v == "0x7032707a65726f31") { on = 1; n = 0; b = 0; next }
		if (v == "0x7032707a65726f32") { if (on) print n, b; on = 0; next }
		if (on) { n++; b += s }
	}' "$w/trace.log" 2>/dev/null)
	set -- $(echo "$counts" | sort -u)
	if [ -z "$pages" ] || [ "$(echo "$pages" | wc -l)" != 1 ] || [ $# != 2 ] ||
		[ "$(echo "$counts" | grep -c .)" != "$rounds" ] || [ "$rounds" -lt 5 ] || [ "$2" != $((pages * 4096)) ]; then
		say "zeroing trace: ${pages:-no} pages mapped per round, $rounds rounds; CPU writes and bytes per window:" $counts
		result 1 "[$abi] the CMB's zeroing writes are found in QEMU's trace, the same in every round"
		return
	fi
	result 0 "[$abi] the CMB's zeroing writes are found in QEMU's trace, the same in every round"
	printf '# %-40s %d CPU writes, %d bytes, %s bytes per write (goal: 8 or more), in each of %d rounds\n' \
		"zero $pages CMB pages" "$1" "$2" "$(awk -v n="$1" -v b="$2" 'BEGIN { printf "%.2f", b / n }')" "$rounds" |
		tee -a "$OUT/bench.txt"
	host_check "[$abi] zeroing writes 8 or more bytes per CPU write" [ $(($2 / $1)) -ge 8 ]
}

# bench_report ABI: the guest's BENCH lines as one table per kernel, times
# with their spread over the rounds and ratios within a round (absolute
# times under TCG say little), then the counters (tests/bench-report.awk),
# which must be the same in every round.
bench_report() {
	local abi=$1 w=$OUT/$1/plain
	if grep -q "BENCH-ERROR" "$w/console.log" || ! grep -q "^GUEST-DONE" "$w/console.log"; then
		grep -E "BENCH-ERROR|Error|error" "$w/console.log" | sed 's/^/#   /'
		result 1 "[$abi] benchmarks ran"
		return
	fi
	result 0 "[$abi] benchmarks ran"
	[ -s "$OUT/bench.txt" ] ||
		echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC'), kernels: $KERNELS; host: $(nproc) CPUs, TCG" >"$OUT/bench.txt"
	awk -v abi="$abi" -v backend="$BACKEND" -f "$ROOT/tests/bench-report.awk" "$w/console.log" >"$w/bench.txt"
	grep -v '^VARIES\|^GOAL' "$w/bench.txt" | tee -a "$OUT/bench.txt"
	# Other work on the host is what spreads the times most.
	awk '{ print "# host load average over the last 1, 5 minutes:", $1, $2 }' /proc/loadavg |
		tee -a "$OUT/bench.txt"
	sed -n 's/^VARIES /# p2pmem counters that varied: /p' "$w/bench.txt"
	local rc=0
	! grep -q '^VARIES' "$w/bench.txt" || rc=1
	result $rc "[$abi] p2pmem's counters are the same in every round"
	# The fault count is deterministic, so its goal is a result; the
	# timing goals are only reported (see the report's goals lines).
	case $(sed -n 's/^GOAL faults //p' "$w/bench.txt") in
	met) result 0 "[$abi] goal: at most 64 page faults to mmap and touch 64 MiB" ;;
	n/a) ;;
	*) result 1 "[$abi] goal: at most 64 page faults to mmap and touch 64 MiB" ;;
	esac
	zero_report "$abi"
}

