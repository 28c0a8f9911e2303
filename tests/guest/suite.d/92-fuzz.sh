# ---- malformed input: ioctls, bad pointers, VM operations, sysfs junk -------
# p2pmem_fuzz (tests/src/p2pmem_fuzz.c) states the result of every case and
# checks the kernel log each part caused.  It runs on the ivshmem's p2pmemN,
# on whichever backend the kernel has (on P2PDMA kernels GUP refuses the
# pages, which changes what /proc/PID/mem, process_vm_* and mlock give).
# It writes into the ivshmem BAR: it must run before the host's proof.
FUZZ_T0=$(secs_now)
check "fuzz: insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
check "fuzz: $IV has a p2pmem device ($C)" test -n "$C" -a -c "/dev/$C"
p2pmem_fuzz ioctl /dev/$C $NVPCI
p2pmem_fuzz vm /dev/$C
# This one unbinds and binds $IV at its end: the p2pmemN may change.
p2pmem_fuzz sysfs /dev/$C $IV
C=$(child_of $IV)
check "fuzz: $IV has its p2pmem device again ($C)" test -n "$C"
is "fuzz: all of $C's memory is available" "$(attr $C available)" "$(attr $C size)"
check "fuzz: rmmod" rmmod p2pmem
# Load-time parameters: a hostile ids= entry is refused and named escaped.
ESC=$(printf '\033')
n=$(dmesg | grep -c "$ESC")
refute "fuzz: insmod with terminal escapes in ids= is refused" \
	insmod $KO adopt=0 nvme_cmb=0 "ids=P2PMEM${ESC}[2Jzz"
check "... and says why, escaped" sh -c "dmesg | grep -qF 'bad ids= entry \"P2PMEM\\e[2Jzz\"'"
is "... no raw escape character reached the log" "$(dmesg | grep -c "$ESC")" "$n"
echo "# 92-fuzz took $(took $FUZZ_T0) s"
