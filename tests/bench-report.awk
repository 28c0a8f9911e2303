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
# caller turns into a failure.  Then issue 13's goals, each with the
# numbers it is judged on and whether this run met it; a GOAL line per
# deterministic goal for the caller (GOAL faults met|not-met|n/a).
# Usage: awk -v abi=ABI -v backend=native|kernel -f bench-report.awk console.log
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
# Three significant digits or so: mmap() takes 0.1 ms, a read 2000 MiB/s.
function num(v) {
	return sprintf(v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f", v)
}
# stat(a, n): "median [min-max]" of a[1..n]; also sets med, lo, hi, cnt
function stat(a, n) {
	cnt = n
	if (n == 0)
		return "n/a"
	sort(a, n)
	med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	lo = a[1]
	hi = a[n]
	return num(med) " [" num(lo) "-" num(hi) "]"
}
function times(wl, l,    a, n, r) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((wl, l, r) in T)
			a[++n] = T[wl, l, r]
	return stat(a, n)
}
# ratio(w1, l1, w2, l2): of w1 on l1 to w2 on l2, round by round; the
# per-round values are left in rat[1..cnt]
function ratio(w1, l1, w2, l2,    n, r) {
	n = 0
	delete rat
	for (r = 1; r <= rounds; r++)
		if ((w1, l1, r) in T && (w2, l2, r) in T && T[w2, l2, r] > 0)
			rat[++n] = T[w1, l1, r] / T[w2, l2, r]
	return stat(rat, n)
}
# over(goal): in how many rounds the last ratio() was above goal
function over(goal,    i, k) {
	k = 0
	for (i = 1; i <= cnt; i++)
		k += rat[i] > goal
	return k
}
# A goal on a ratio: met when the median of the per-round ratios is at
# most the goal (TCG's timings need the median), and whether every round
# was within it.
function ratio_goal(what, s, goal,    k, v) {
	if (cnt == 0) {
		printf "#   %s: no measurement: NOT met\n", what
		return
	}
	k = over(goal)
	if (med > goal)
		v = sprintf("NOT met (median %.2f, above %s)", med, goal)
	else if (k)
		v = "met at the median; " k " of " cnt " rounds above " goal
	else
		v = "met in every round"
	printf "#   %s: %s over %d rounds: %s\n", what, s, cnt, v
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
	# Except how many pages a cold pool's faults zeroed: that is a race
	# with the background zeroing, shown, not required to be stable.
	# And, on the kernel backend, where p2pmem's mappings land: their
	# pages come from the p2pdma core's genpool, like the allocate file's
	# (contiguity: NVMe requests), and their addresses from the mm with
	# no alignment of p2pmem's, so the 2 MiB fault windows fall 32 or 33
	# to 64 MiB, 2 or 3 to 4 MiB.
	# And how the block layer cut the O_DIRECT writes: on 6.1 it merged
	# one request of the 128 in some rounds (7.94 per write), for p2pmem
	# and anonymous RAM alike.
	if (l == "p2pmem" && !(wl ~ /^cold-/ && c == "pages-zeroed-at-fault") &&
	    !(backend == "kernel" && (wl ~ /^dio/ || c == "minor-faults")) &&
	    wl != "dio-write" && !((wl, c) in varied)) {
		varied[wl, c] = 1
		varies = varies " " wl "/" c "/" l
	}
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
/^BENCH-INFO / { sub(/^BENCH-INFO /, ""); info[++ni] = $0; next }
/^BENCH-ROUND / { r = $2 + 0; if (r > rounds) rounds = r; next }
r == 0 { next }
/^BENCH zero-pages / { next }
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
	f = "# %-22s %-24s %-24s %-24s %-20s %-20s"
	row(f, "workload", "p2pmem", "allocate", "anon RAM", "p2pmem/anon", "p2pmem/allocate")
	for (i = 1; i <= nwl; i++) {
		wl = wls[i]
		if (wl == "flat-mmap" || wl == "frag-mmap")
			continue
		# The cold pool's p2pmem against the same round's anon RAM.
		aw = wl ~ /^cold-/ ? substr(wl, 6) : wl
		row(f, wl " (" unit[wl] ")", times(wl, "p2pmem"), times(wl, "allocate"),
			times(aw, "anon"), ratio(wl, "p2pmem", aw, "anon"), ratio(wl, "p2pmem", wl, "allocate"))
	}
	if ("flat-mmap" in unit)
		printf "# %-22s empty pool %s ms, every other page held %s ms, held/empty %s\n",
			"mmap half the BAR", times("flat-mmap", "p2pmem"), times("frag-mmap", "p2pmem"),
			ratio("frag-mmap", "p2pmem", "flat-mmap", "p2pmem")
	printf "# not stable: the times depend on TCG and the host's load; compare the ratios within one run\n"
	for (i = 1; i <= ni; i++)
		printf "# %s\n", info[i]
	printf "# stable: the counters are deterministic (the same in every round unless marked *;\n"
	printf "# in the allocate and anon RAM columns, * is where the kernel put the pages: THP,\n"
	printf "# physically contiguous pages make fewer NVMe requests; a cold pool's\n"
	printf "# pages-zeroed-at-fault races the background zeroing; on the kernel backend\n"
	printf "# the kernel places p2pmem's mappings too: faults and O_DIRECT counters;\n"
	printf "# the block layer merges O_DIRECT writes in some rounds)\n"
	g = "# %-44s %-14s %-14s %-14s"
	row(g, "workload counter", "p2pmem", "allocate", "anon RAM")
	for (i = 1; i <= nc; i++) {
		split(cs[i], k, SUBSEP)
		row(g, k[1] " " k[2], counter(k[1], k[2], "p2pmem"), counter(k[1], k[2], "allocate"),
			counter(k[1], k[2], "anon"))
	}

	# Issue 13's goals, judged on this run.
	printf "# goals (issue 13), %s, %s backend:\n", abi, backend
	fc = counter("mmap+touch", "minor-faults", "p2pmem")
	fmax = 0
	for (r = 1; r <= rounds; r++)
		if (("mmap+touch", "minor-faults", "p2pmem", r) in C && C["mmap+touch", "minor-faults", "p2pmem", r] + 0 > fmax)
			fmax = C["mmap+touch", "minor-faults", "p2pmem", r] + 0
	if (fc == "n/a") {
		printf "#   page faults to mmap + touch 64 MiB at most 64: no measurement: NOT met\n"
		gf = "not-met"
	} else {
		gf = fmax <= 64 ? "met" : "not-met"
		printf "#   page faults to mmap + touch 64 MiB at most 64: %s (getrusage, every round): %s\n",
			fc, gf == "met" ? "met" : "NOT met"
	}
	s1 = ratio("mmap", "p2pmem", "mmap", "anon")
	ratio_goal("mmap() of 64 MiB within 20x of anonymous RAM's: p2pmem/anon", s1, 20)
	if (backend == "native")
		w = " (pages its faults zeroed: " counter("mmap+touch", "pages-zeroed-at-fault", "p2pmem") ")"
	else
		w = " (the kernel backend has no background zeroing: its faults zero every page)"
	s1 = ratio("mmap+touch", "p2pmem", "mmap+touch", "anon")
	ratio_goal("warm pool: mmap + touch of 64 MiB no slower than anonymous RAM: p2pmem/anon" w, s1, 1)
	if (("cold-mmap+touch" in unit))
		printf "#   (not a goal) cold pool, mmap + touch: p2pmem/anon %s; pages zeroed at fault %s of 16384\n",
			ratio("cold-mmap+touch", "p2pmem", "mmap+touch", "anon"),
			counter("cold-mmap+touch", "pages-zeroed-at-fault", "p2pmem")
	print "GOAL faults " gf
	if (varies != "")
		print "VARIES" varies
}
