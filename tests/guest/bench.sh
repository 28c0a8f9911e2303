# `make bench`: the same workloads side by side in one VM run, over the same
# BAR: p2pmem's node, the kernel's own p2pmem/allocate file where the kernel
# has one, and anonymous RAM.  The host turns the BENCH lines into ratios.
. /tests/lib.sh
IV=$(find_pci 0x1af4 0x1110)
NV=$(nvme_ns_by_serial $NV_SERIAL)
CMB=$(ns_pci $(nvme_ns_by_serial $CMB_SERIAL))
insmod /p2pmem.ko adopt=0 ids=1af4:1110 || echo "BENCH-ERROR insmod failed"
C=$(child_of $IV)
K=/sys/bus/pci/devices/$IV/p2pmem/allocate
set -- p2pmem /dev/$C anon anon
[ -e $K ] && set -- "$@" allocate $K
while [ $# -gt 0 ]; do
	p2pmem_bench map "$1" "$2" || echo "BENCH-ERROR map $1"
	p2pmem_bench dio "$1" "$2" "$NV" || echo "BENCH-ERROR dio $1"
	shift 2
done
# Taking pages from a fragmented pool: every other page of the ivshmem BAR
# held, then half of the BAR in one mmap.  With the module's debug output
# on, it says how many pool scans that took.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
p2pmem_bench frag p2pmem /dev/$C || echo "BENCH-ERROR frag"
dmesg | sed -n 's/.*\(p2pmem[0-9]*: took .*\)/BENCH-INFO \1/p' | tail -n 1
rmmod p2pmem
# Zeroing, on the NVMe CMB: unlike the RAM-backed ivshmem BAR, QEMU traces
# every CPU write into it (the host reads that trace, see zero_report).
grep -qw movdir64b /proc/cpuinfo && echo "BENCH-INFO the CPU has MOVDIR64B" ||
	echo "BENCH-INFO the CPU has no MOVDIR64B"
insmod /p2pmem.ko || echo "BENCH-ERROR insmod with CMBs failed"
wait_for 100 has_child $CMB
p2pmem_bench zero p2pmem /dev/$(child_of $CMB) 64 || echo "BENCH-ERROR zero"
rmmod p2pmem
