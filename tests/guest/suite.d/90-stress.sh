# ---- stress: many users at once, map/unmap cycles, fork ---------------------
# tests/src/p2pmem_stress.c.  3 processes of 16 threads for 20 s on the
# ivshmem provider, each thread opening, mapping 1 page to 4 MiB, checking
# every new page reads zero, claiming each page's BAR offset in a table the
# processes share (a page in two live buffers fails), writing and checking
# its own pattern, reading the NVMe's known bytes into part of a buffer by
# O_DIRECT, forking, unmapping and closing in random orders; then 100,000
# map/touch/unmap cycles (in two processes: the VM has two vCPUs, and
# under TCG a cycle costs about what one on shared anonymous memory does,
# some 0.3-0.8 ms); then fork.  "available" must be back to "size"
# after each.  The load must come before the bytes left for the host
# (p2pmem_test proof): it writes all over the ivshmem's backing file.
S90=$(secs_now)
check "stress: insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
check "stress: the ivshmem is a p2pmem device ($C)" test -n "$C" -a -c "/dev/$C"
# A seed of its own each run; printed by the program, so a failure can be
# replayed (the interleaving of threads cannot).
SEED=$(cut -d' ' -f1 /proc/uptime | tr -d .)$$
t=$(secs_now)
if [ $P2P_DATA = yes ]; then
	p2pmem_stress load /dev/$C --threads 16 --procs 3 --secs 20 --seed $SEED --nvme $NV
else
	p2pmem_stress load /dev/$C --threads 16 --procs 3 --secs 20 --seed $SEED
fi
is "stress: p2pmem_stress load exits 0" $? 0
[ $P2P_DATA = yes ] ||
	skip "stress: O_DIRECT from the NVMe into the buffers under load" \
		"the kernel backend under QEMU's IOMMU: direct P2P DMA faults (see P2P_DATA)"
echo "# time: stress load $(took $t) s"
t=$(secs_now)
p2pmem_stress cycles /dev/$C --count 100000 --procs 2
is "stress: p2pmem_stress cycles exits 0" $? 0
echo "# time: 100000 cycles $(took $t) s"
t=$(secs_now)
p2pmem_stress fork /dev/$C
is "stress: p2pmem_stress fork exits 0" $? 0
echo "# time: fork $(took $t) s"
check "stress: rmmod" rmmod p2pmem
echo "# time: section 90-stress $(took $S90) s"
