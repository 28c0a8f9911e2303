# SPDX-License-Identifier: GPL-2.0
# `make bench`'s table for one kernel, from the guest's console (see
# tests/guest/bench.sh):
#   BENCH-ROUND r                               the rounds that follow
#   BENCH workload label value unit             a time or a rate
#   BENCHC workload label counter value         a count
# Times: the median over the rounds with [min-max]; ratios: the median of
# the per-round ratios (both targets measured in the same round) with their
# [min-max].  Counters: one value if every round gave the same, else
# "min-max *"; a counter of p2pmem's that moves gives a VARIES line the
# caller turns into a failure.
# Usage: awk -v abi=ABI -f bench-report.awk console.log
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
# stat(a, n, fmt): "median [min-max]" of a[1..n]
function stat(a, n, fmt,    m) {
	if (n == 0)
		return "n/a"
	sort(a, n)
	m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	return sprintf(fmt " [" fmt "-" fmt "]", m, a[1], a[n])
}
function times(wl, l,    a, n, r) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((wl, l, r) in T)
			a[++n] = T[wl, l, r]
	return stat(a, n, "%.1f")
}
# ratio(w1, l1, w2, l2): of w1 on l1 to w2 on l2, round by round
function ratio(w1, l1, w2, l2,    a, n, r) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((w1, l1, r) in T && (w2, l2, r) in T && T[w2, l2, r] > 0)
			a[++n] = T[w1, l1, r] / T[w2, l2, r]
	return stat(a, n, "%.2f")
}
function counter(wl, c, l,    r, lo, hi, n) {
	n = 0
	for (r = 1; r <= rounds; r++) {
		if (!((wl, c, l, r) in C))
			continue
		if (n++ == 0 || C[wl, c, l, r] + 0 < lo + 0) lo = C[wl, c, l, r]
		if (n == 1 || C[wl, c, l, r] + 0 > hi + 0) hi = C[wl, c, l, r]
	}
	if (n == 0)
		return "n/a"
	if (lo == hi)
		return n == rounds ? lo : lo " (" n "/" rounds " rounds)"
	# Where anonymous RAM's pages land is the page allocator's business,
	# and where the kernel's allocate file's land is its genpool's, which
	# shares the BAR with p2pmem's pages still being freed: physically
	# contiguous pages merge into fewer NVMe requests, THP saves faults.
	# Only p2pmem's own counters must not move.
	if (l == "p2pmem")
		varies = varies " " wl "/" c "/" l
	return lo "-" hi " *"
}
# row(fmt, ...): printf without the padding at the end of the line
function row(fmt, a, b, c, d, e, f,    s) {
	s = sprintf(fmt, a, b, c, d, e, f)
	sub(/ +$/, "", s)
	print s
}
# Round 0 is a warm-up, left out: TCG translates the code a workload runs
# the first time it runs, which made round 1 up to 8x slower.
/^BENCH-ROUND / { r = $2 + 0; if (r > rounds) rounds = r; next }
r == 0 { next }
/^BENCH zero-pages / { next }
/^BENCH-INFO / { sub(/^BENCH-INFO /, ""); info[++ni] = $0; next }
/^BENCH / {
	if (!($2 in unit)) { wls[++nwl] = $2; unit[$2] = $5 }
	T[$2, $3, r] = $4
	next
}
/^BENCHC / {
	if (!(($2, $4) in seen)) { seen[$2, $4] = 1; cs[++nc] = $2 SUBSEP $4 }
	C[$2, $4, $3, r] = $5
	next
}
END {
	printf "# %s: %d rounds; in each every target once, the order turned by one per round\n", abi, rounds
	printf "# times: median [min-max] over the rounds; ratios: median [min-max] of the per-round ratios\n"
	f = "# %-17s %-22s %-22s %-22s %-17s %-17s"
	row(f, "workload", "p2pmem", "allocate", "anon RAM", "p2pmem/anon", "p2pmem/allocate")
	for (i = 1; i <= nwl; i++) {
		wl = wls[i]
		if (wl == "flat-mmap" || wl == "frag-mmap")
			continue
		row(f, wl " (" unit[wl] ")", times(wl, "p2pmem"), times(wl, "allocate"),
			times(wl, "anon"), ratio(wl, "p2pmem", wl, "anon"), ratio(wl, "p2pmem", wl, "allocate"))
	}
	if ("flat-mmap" in unit)
		printf "# %-17s empty pool %s ms, every other page held %s ms, held/empty %s\n",
			"mmap half the BAR", times("flat-mmap", "p2pmem"), times("frag-mmap", "p2pmem"),
			ratio("frag-mmap", "p2pmem", "flat-mmap", "p2pmem")
	printf "# not stable: the times depend on TCG and the host's load; compare the ratios within one run\n"
	for (i = 1; i <= ni; i++)
		printf "# %s\n", info[i]
	printf "# stable: the counters are deterministic (the same in every round unless marked *;\n"
	printf "# in the allocate and anon RAM columns, * is where the kernel put the pages: THP,\n"
	printf "# physically contiguous pages make fewer NVMe requests)\n"
	g = "# %-40s %-14s %-14s %-14s"
	row(g, "workload counter", "p2pmem", "allocate", "anon RAM")
	for (i = 1; i <= nc; i++) {
		split(cs[i], k, SUBSEP)
		row(g, k[1] " " k[2], counter(k[1], k[2], "p2pmem"), counter(k[1], k[2], "allocate"),
			counter(k[1], k[2], "anon"))
	}
	if (varies != "")
		print "VARIES" varies
}
