# `make bench`: the same workloads side by side in one VM run, over the same
# BAR: p2pmem's node, the kernel's own p2pmem/allocate file where the kernel
# has one, and anonymous RAM.  Every workload runs in ROUNDS rounds; a round
# runs each target once, and the targets' order turns by one from round to
# round, so a change in the host's load (TCG shares the host's cores) falls
# on every target alike.  The host (bench_report in tests/run) takes the
# medians, the spreads and the per-round ratios; BENCHC lines are counts,
# p2pmem's must come out the same in every round.
. /tests/lib.sh
ROUNDS=15
IV=$(find_pci 0x1af4 0x1110)
NV=$(nvme_ns_by_serial $NV_SERIAL)
CMB=$(ns_pci $(nvme_ns_by_serial $CMB_SERIAL))
insmod /p2pmem.ko adopt=0 ids=1af4:1110 || echo "BENCH-ERROR insmod failed"
C=$(child_of $IV)
K=/sys/bus/pci/devices/$IV/p2pmem/allocate
mount -t debugfs none /sys/kernel/debug 2>/dev/null
DDC=/sys/kernel/debug/dynamic_debug/control
echo "BENCH-INFO p2pmem backend: $BACKEND"
echo "BENCH-INFO anonymous RAM: MAP_PRIVATE|MAP_ANONYMOUS; THP enabled: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo none), defrag: $(cat /sys/kernel/mm/transparent_hugepage/defrag 2>/dev/null || echo none)"

# The native backend zeroes free pages in the background (after
# registration, and after pages come back); a warm pool is one where that
# is done.  Its debug lines say when every free page is zeroed and how
# many pages a fault had to zero itself.  Only those two are turned on (a
# debug line inside mmap() would be timed with it), the first only while
# waiting for it: every page given back alone (frag gives back 16384)
# brings one.
[ "$BACKEND" != native ] || echo 'module p2pmem format "a fault zeroed" +p' >$DDC ||
	echo "BENCH-ERROR cannot turn on the module's debug lines"
# The first "every free page is zeroed" after the last settle marker.
zeroed_since_settle() {
	dmesg | awk '/p2pmem_bench: settle/ { z = 0 }
		/every free page is zeroed/ { z = 1 }
		END { exit !z }'
}
# warm: wait until the pool is zeroed (native backend; nothing to wait for
# on the kernel backend, which zeroes at fault).  Every target waits, so
# the zeroing of what p2pmem gave back never runs during another's turn.
warm() {
	[ "$BACKEND" = native ] || return 0
	echo 'module p2pmem format "every free page is zeroed" +p' >$DDC
	p2pmem_bench settle /dev/$C || echo "BENCH-ERROR settle round $r"
	# The CMB's first zeroing, every write traced, is the slow one.
	wait_for 3000 zeroed_since_settle || echo "BENCH-ERROR $C was not zeroed within 300 s (round $r)"
	echo 'module p2pmem format "every free page is zeroed" -p' >$DDC
}
# Pages the module's faults zeroed so far, by its debug lines.
fault_zeroed() {
	dmesg | sed -n 's/.*a fault zeroed \([0-9]*\) pages.*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}

# each WORKLOAD TARGET...: WORKLOAD once on every target, in order.
each() {
	local w=$1 z0 z1
	shift
	while [ $# -gt 0 ]; do
		warm
		z0=$(fault_zeroed)
		case $w in
		map) p2pmem_bench map "$1" "$2" ;;
		dio) p2pmem_bench dio "$1" "$2" "$NV" ;;
		esac || echo "BENCH-ERROR $w $1 round $r"
		z1=$(fault_zeroed)
		[ "$1" != p2pmem ] || [ "$BACKEND" != native ] || [ $w != map ] ||
			echo "BENCHC mmap+touch p2pmem pages-zeroed-at-fault $((z1 - z0))"
		shift 2
	done
}

# cold: p2pmem's mmap + touch as soon as the whole pool, just written, is
# back (native backend): the background zeroing races it, so how many
# pages the faults zeroed is counted, not fixed.
cold() {
	local z0 z1
	[ "$BACKEND" = native ] || return 0
	warm
	z0=$(fault_zeroed)
	p2pmem_bench cold p2pmem /dev/$C || echo "BENCH-ERROR cold round $r"
	z1=$(fault_zeroed)
	echo "BENCHC cold-mmap+touch p2pmem pages-zeroed-at-fault $((z1 - z0))"
}

# Taking pages from a fragmented pool: every other page of the ivshmem BAR
# held, then half of the BAR in one mmap.  The module's debug line for that
# mmap says how it found the pages: counters, the same every time.
frag() {
	local n0 n1
	warm
	n0=$(dmesg | grep -c ': took ')
	p2pmem_bench frag p2pmem /dev/$C || echo "BENCH-ERROR frag round $r"
	n1=$(dmesg | grep -c ': took ')
	[ "$n1" = $((n0 + 1)) ] || { echo "BENCH-ERROR frag round $r: $((n1 - n0)) debug lines"; return; }
	dmesg | sed -n 's/.*: took \([0-9]*\) pages: \([0-9]*\) 2 MiB runs, \([0-9]*\) runs in \([0-9]*\) first-fit searches, \([0-9]*\) pages in one sweep.*/\1 \2 \3 \4 \5/p' |
		tail -n 1 | {
		read -r pages huge runs scans swept
		[ -n "$swept" ] || { echo "BENCH-ERROR frag round $r: the debug line did not parse"; return; }
		echo "BENCHC frag-mmap p2pmem pages $pages"
		echo "BENCHC frag-mmap p2pmem 2MiB-runs $huge"
		echo "BENCHC frag-mmap p2pmem runs $runs"
		echo "BENCHC frag-mmap p2pmem first-fit-searches $scans"
		echo "BENCHC frag-mmap p2pmem swept-pages $swept"
	}
}

set -- p2pmem /dev/$C
[ -e $K ] && set -- "$@" allocate $K
set -- "$@" anon anon
# Round 0 is a warm-up the host leaves out (see tests/bench-report.awk).
r=0
while [ $r -le $ROUNDS ]; do
	echo "BENCH-ROUND $r"
	each map "$@"
	cold
	each dio "$@"
	frag
	set -- "$@" "$1" "$2"
	shift 2
	r=$((r + 1))
done
warm
rmmod p2pmem

# Zeroing, on the NVMe CMB: unlike the RAM-backed ivshmem BAR, QEMU traces
# every CPU write into it (the host reads that trace, see zero_report).
# The native backend zeroes pages given back in the background, so the
# window holds that (after a warm pool: nothing else is being zeroed);
# the kernel backend zeroes at fault.  The count is the same every time,
# so the rounds only show that it is.
grep -qw movdir64b /proc/cpuinfo && echo "BENCH-INFO the CPU has MOVDIR64B" ||
	echo "BENCH-INFO the CPU has no MOVDIR64B"
insmod /p2pmem.ko || echo "BENCH-ERROR insmod with CMBs failed"
wait_for 100 has_child $CMB
C=$(child_of $CMB)
how=fault
[ "$BACKEND" != native ] || how=background
echo "BENCH-INFO CMB zeroing: 64 pages zeroed by $how (the zero line below)"
r=1
while [ $r -le $ROUNDS ]; do
	echo "BENCH-ROUND $r"
	warm
	[ $how = fault ] || echo 'module p2pmem format "every free page is zeroed" +p' >$DDC
	p2pmem_bench zero p2pmem /dev/$C 64 $how || echo "BENCH-ERROR zero round $r"
	r=$((r + 1))
done
warm
rmmod p2pmem
