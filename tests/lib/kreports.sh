# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Kernel reports in a guest's dmesg: what the dmesg judge fails on, and the
# short, reviewed list of known third-party reports it names instead
# (tests/known-kernel-reports).  Sourced by tests/run.

KNOWN_REPORTS=$ROOT/tests/known-kernel-reports

# Lines that are a kernel report, or part of one.  Beyond WARNING/BUG/Oops:
# KASAN and KFENCE titles; lockdep's titles (its banners are WARNING: but
# not all its reports are); lockdep switched off or found off, which
# leaves the rest of the boot unchecked; atomic-context and spinlock
# debugging; debugobjects; page table check (a BUG_ON: "kernel BUG at");
# SLUB debugging ("BUG <cache> (Not tainted): ..."); page poisoning; list
# debugging; hardened usercopy and fortify; refcount; stalls and hangs.
KREPORT_ERE='WARNING:|BUG:|BUG [^ ]+ \((Not tainted|Tainted)|kernel BUG at|Oops|general protection|invalid opcode:|Call Trace|Kernel panic'
KREPORT_ERE+='|BUG: KASAN|BUG: KFENCE|UBSAN:'
KREPORT_ERE+='|possible circular locking|possible recursive locking|inconsistent lock state|DEBUG_LOCKS_WARN_ON'
KREPORT_ERE+='|suspicious RCU usage|lock held when returning|bad unlock balance|held lock freed|irq lock inversion'
KREPORT_ERE+='|lock order detected|Nested lock was not taken|trying to register non-static key|has not been registered'
KREPORT_ERE+='|turning off the locking correctness validator|Disabling lock debugging|INFO: lockdep is turned off'
KREPORT_ERE+='|sleeping function called from invalid context|scheduling while atomic|leaked lock or atomic'
KREPORT_ERE+='|spinlock (bad magic|recursion|wrong owner|wrong CPU|lockup)|rwlock (bad magic|recursion|wrong owner)'
KREPORT_ERE+='|ODEBUG:|mm/page_table_check\.c|Bad page (state|map)|Bad rss-counter|pagealloc: (memory corruption|single bit error)'
KREPORT_ERE+='|list_(add|del) corruption|usercopy:|detected buffer overflow|stack-protector|refcount_t:'
KREPORT_ERE+='|RCU stall|rcu_.*detected stall|INFO: task .* blocked|soft lockup|hard LOCKUP'
# A page-table entry the mm found malformed and cleared ("mm/pgtable-generic.c:
# 50: bad pmd ..."): what a walker that does not know devmap PMDs makes of one.
KREPORT_ERE+='|bad (pgd|p4d|pud|pmd|pte)[ :]'

# kernel_reports DMESG ABI: prints the report lines of DMESG that no known
# report of ABI explains (nothing: clean).  Prints "KNOWN <title>" for each
# known report found.  A known report explains only its own block: from
# the separator line just above its title to the separator that closes it
# ("=====..." as KASAN and KFENCE print, or "---[ end trace"), and only if
# no other report's title or report line (Call Trace aside) appears in
# between; "Disabling lock debugging"
# after it is outside the block and still fails.
kernel_reports() {
	local dmesg=$1 abi=$2 glob re res=()
	if [ -f "$KNOWN_REPORTS" ]; then
		while IFS=$'\t' read -r glob re; do
			case $glob in "" | "#"*) continue ;; esac
			# shellcheck disable=SC2053
			if [[ $abi == $glob ]]; then res+=("$re"); fi
		done <"$KNOWN_REPORTS"
	fi
	KNOWN_RES=$(printf '%s\n' "${res[@]}") KREPORT_ERE=$KREPORT_ERE awk '
	BEGIN { nk = split(ENVIRON["KNOWN_RES"], k0, "\n"); for (k = 1; k <= nk; k++) if (k0[k] != "") known[++m] = k0[k]; nk = m; bad = ENVIRON["KREPORT_ERE"] }
	{ raw[++n] = $0; l = $0; sub(/^\[ *[0-9.]+\] /, "", l); line[n] = l }
	function sep(s) { return s ~ /^=+$/ || s ~ /cut here/ }
	function title(s) { return s ~ /^(BUG|WARNING|INFO):|^BUG |kernel BUG at|Oops|general protection|Kernel panic/ }
	END {
		for (i = 1; i <= n; i++) {
			for (k = 1; k <= nk; k++) if (line[i] ~ known[k]) break
			if (k > nk) continue
			s = 0
			for (j = i - 1; j >= i - 3 && j >= 1; j--) if (sep(line[j])) { s = j; break }
			e = 0
			for (j = i + 1; j <= n && j <= i + 300; j++) {
				if (line[j] ~ /^=+$/ || line[j] ~ /^---\[ end trace/) { e = j; break }
				# Any other report line inside (a report of another CPU
				# interleaved) ends the match: the block is not explained.
				if (title(line[j]) || (line[j] ~ bad && line[j] !~ /Call Trace/)) break
			}
			if (!s || !e) continue
			for (j = s; j <= e; j++) explained[j] = 1
			print "KNOWN " line[i]
			i = e
		}
		for (i = 1; i <= n; i++)
			if (!explained[i] && line[i] ~ bad) print raw[i]
	}' "$dmesg"
}

# judge_kernel_reports LABEL ABI DIR: one result from DIR/dmesg.log; the
# unexplained report lines go to DIR/dmesg.bad.
judge_kernel_reports() {
	local label=$1 abi=$2 w=$3 out line
	out=$(kernel_reports "$w/dmesg.log" "$abi")
	grep '^KNOWN ' <<<"$out" | while IFS= read -r line; do
		say "[$label] known third-party report (tests/known-kernel-reports): ${line#KNOWN }"
	done || true
	grep -v '^KNOWN ' <<<"$out" | grep . >"$w/dmesg.bad" || true
	# Reports can only be judged in a dmesg that still starts at the boot.
	grep -m1 '^\[' "$w/dmesg.log" | grep -q '\] Linux version ' ||
		echo "dmesg does not start at the boot: the log buffer wrapped, reports may be lost" >>"$w/dmesg.bad"
	if [ -s "$w/dmesg.bad" ]; then
		sed 's/^/#   /' "$w/dmesg.bad" | head -n 40
		result 1 "[$label] guest dmesg has no WARNING/BUG/Oops/Call Trace, KASAN, KFENCE or lockdep report"
	else
		result 0 "[$label] guest dmesg has no WARNING/BUG/Oops/Call Trace, KASAN, KFENCE or lockdep report"
	fi
}
