# `make bench`: the same workloads side by side in one VM run, over the same
# BAR: p2pmem's node, the kernel's own p2pmem/allocate file where the kernel
# has one, and anonymous RAM.  The host turns the BENCH lines into ratios.
. /tests/lib.sh
IV=$(find_pci 0x1af4 0x1110)
NV=$(nvme_ns_by_serial p2ptest0)
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
rmmod p2pmem
