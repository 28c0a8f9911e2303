# `make bench`: the same workloads side by side in one VM run, over the same
# BAR: p2pmem's node, the kernel's own p2pmem/allocate file where the kernel
# has one, and anonymous RAM.  Every workload runs in ROUNDS rounds; a round
# runs each target once, and the targets' order turns by one from round to
# round, so a change in the host's load (TCG shares the host's cores) falls
# on every target alike.  The host (bench_report in tests/run) takes the
# medians, the spreads and the per-round ratios; BENCHC lines are counts,
# p2pmem's must come out the same in every round.
. /tests/lib.sh
ROUNDS=11
IV=$(find_pci 0x1af4 0x1110)
NV=$(nvme_ns_by_serial $NV_SERIAL)
CMB=$(ns_pci $(nvme_ns_by_serial $CMB_SERIAL))
insmod /p2pmem.ko adopt=0 ids=1af4:1110 || echo "BENCH-ERROR insmod failed"
C=$(child_of $IV)
K=/sys/bus/pci/devices/$IV/p2pmem/allocate
mount -t debugfs none /sys/kernel/debug 2>/dev/null

# each WORKLOAD LABEL TARGET...: WORKLOAD once on every target, in order.
each() {
	local w=$1
	shift
	while [ $# -gt 0 ]; do
		case $w in
		map) p2pmem_bench map "$1" "$2" ;;
		dio) p2pmem_bench dio "$1" "$2" "$NV" ;;
		esac || echo "BENCH-ERROR $w $1 round $r"
		shift 2
	done
}

# Taking pages from a fragmented pool: every other page of the ivshmem BAR
# held, then half of the BAR in one mmap.  The module's debug line for that
# mmap says how it found the pages: counters, the same every time.
frag() {
	local n0 n1
	n0=$(dmesg | grep -c ': took ')
	p2pmem_bench frag p2pmem /dev/$C || echo "BENCH-ERROR frag round $r"
	n1=$(dmesg | grep -c ': took ')
	[ "$n1" = $((n0 + 1)) ] || { echo "BENCH-ERROR frag round $r: $((n1 - n0)) debug lines"; return; }
	dmesg | sed -n 's/.*: took \([0-9]*\) pages: \([0-9]*\) runs in \([0-9]*\) first-fit searches, \([0-9]*\) pages in one sweep.*/\1 \2 \3 \4/p' |
		tail -n 1 | {
		read -r pages runs scans swept
		echo "BENCHC frag-mmap p2pmem pages $pages"
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
	each dio "$@"
	frag
	set -- "$@" "$1" "$2"
	shift 2
	r=$((r + 1))
done
rmmod p2pmem

# Zeroing, on the NVMe CMB: unlike the RAM-backed ivshmem BAR, QEMU traces
# every CPU write into it (the host reads that trace, see zero_report).
# The count is the same every time, so the rounds only show that it is.
grep -qw movdir64b /proc/cpuinfo && echo "BENCH-INFO the CPU has MOVDIR64B" ||
	echo "BENCH-INFO the CPU has no MOVDIR64B"
insmod /p2pmem.ko || echo "BENCH-ERROR insmod with CMBs failed"
wait_for 100 has_child $CMB
r=1
while [ $r -le $ROUNDS ]; do
	echo "BENCH-ROUND $r"
	p2pmem_bench zero p2pmem /dev/$(child_of $CMB) 64 || echo "BENCH-ERROR zero round $r"
	r=$((r + 1))
done
rmmod p2pmem
