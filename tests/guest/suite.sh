# The suite: module load/unload, sysfs, mmap, O_DIRECT, fio, unbind and
# rebind, hot-plug, and on kernels with CONFIG_PCI_P2PDMA (BACKEND=kernel)
# the kernel backend, adoption of the NVMe CMB and the kernel's own refusals.
# Runs as PID 1's child in the test VM; BACKEND comes from the host.
. /tests/lib.sh
KO=/p2pmem.ko
# Every section but the CMB one loads with adopt=0 nvme_cmb=0, so that the
# NVMe's CMB does not take a p2pmemN of its own there.
IV=$(find_pci 0x1af4 0x1110)
TD=$(find_pci 0x1b36 0x0005)
NV=$(nvme_ns_by_serial p2ptest0)
NVC=$(nvme_ns_by_serial p2pcmb0)
CMB=$(ns_pci $NVC)
NVPCI=$(ns_pci $NV)
DRV=/sys/bus/pci/drivers/p2pmem
check "found the ivshmem provider ($IV), pci-testdev ($TD), NVMe ($NV) and NVMe with a CMB ($CMB)" \
	test -n "$IV" -a -n "$TD" -a -b "$NV" -a -b "$NVC"
echo "# backend under test: $BACKEND"
# io_uring refused file-backed fixed buffers (other than shmem/hugetlbfs)
# with EOPNOTSUPP up to at least 6.1 (measured on 5.10 and 6.1); 6.12
# accepts them.  P2PDMA kernels refuse P2PDMA pages to it (EREMOTEIO).
set -- $(uname -r | tr '.-' '  ')
URING_FIXED=ok
[ $(($1 * 100 + $2)) -lt 612 ] && URING_FIXED=EOPNOTSUPP
# Peer-to-peer data can be checked unless the kernel backend runs under the
# emulated IOMMU.  There the kernel hands the NVMe the BAR's bus address
# directly (a switch routes such TLPs on real hardware), but QEMU sends
# every DMA through its IOMMU model, which faults it.  That case is checked
# for exactly this fault instead (see "direct bus address" below).
P2P_DATA=yes
[ "$BACKEND" = kernel ] && [ -n "$EXPECT_IOMMU" ] && P2P_DATA=no
if [ -n "$EXPECT_IOMMU" ]; then
	# The NVMe must sit in a translating domain, or this run proves nothing.
	G=$(readlink -f /sys/bus/pci/devices/$NVPCI/iommu_group)
	check "the NVMe ($NVPCI) is behind the IOMMU" test -d "$G"
	check "... in a translating DMA domain ($(cat $G/type 2>/dev/null))" grep -q '^DMA' $G/type
fi

# ---- bad input -----------------------------------------------------------
refute "insmod ids=zzzz is refused" insmod $KO adopt=0 nvme_cmb=0 ids=zzzz
check "... and says why" dmesg_has 'bad ids= entry "zzzz"'
refute "insmod ids=1af4:1110:9 is refused" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110:9
for bad in 1af4:1110junk 1af4:1110:2x 1af4:1110:2: 1af4: :1110 1af4:11100 -1:1110 1af4:1110:-1; do
	refute "insmod ids=$bad is refused" insmod $KO adopt=0 nvme_cmb=0 ids=$bad
	check "... and says why" dmesg_has "bad ids= entry \"$bad\""
done
# bars= is DDDD:BB:DD.F:BAR[,...]: a PCI name as sysfs spells it, then a
# decimal BAR 0-5, nothing else.
for bad in 0000:00:03.0 0000:00:03.0:6 0000:00:03.0:2x 0000:00:03.0:+2 0000:00:03.0:2: \
	00:03.0:2 0000:0:03.0:2 0000:00:20.0:2 0000:00:03.8:2 0000-00:03.0:2; do
	refute "insmod bars=$bad is refused" insmod $KO adopt=0 nvme_cmb=0 bars=$bad
	check "... and says why" dmesg_has "bad bars= entry \"$bad\""
done
refute "insmod bars=$IV:2,junk (one good entry, one bad) is refused" insmod $KO adopt=0 nvme_cmb=0 bars=$IV:2,junk
check "... and says which entry" dmesg_has 'bad bars= entry "junk"'
check "insmod with a zero-size BAR and an I/O BAR loads" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110:1,1b36:0005:1
is "... but creates no p2pmem device" "$(ls /sys/class/p2pmem)" ""
check "zero-size BAR is explained" dmesg_has "BAR 1 is not implemented (size 0)"
check "I/O BAR is explained" dmesg_has "BAR 1 is not a memory BAR"
check "rmmod" rmmod p2pmem
check "insmod ids=1af4:1110:0 (a 256-byte BAR) loads" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110:0
is "... but creates no p2pmem device" "$(ls /sys/class/p2pmem)" ""
check "unaligned BAR is explained" dmesg_has "BAR 0 range .* is not aligned to 0x200000"
rmmod p2pmem
check "insmod ids=1b36:0005 (no prefetchable BAR) loads" insmod $KO adopt=0 nvme_cmb=0 ids=1b36:0005
check "missing prefetchable BAR is explained" dmesg_has "no prefetchable memory BAR"
refute "binding a device that does not exist fails" sh -c "echo 0000:7f:1f.7 > $DRV/bind"
rmmod p2pmem

# ---- load and sysfs ------------------------------------------------------
check "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
P=/sys/class/p2pmem/p2pmem0
check "/sys/class/p2pmem/p2pmem0 exists" test -d $P
is "device link points at the provider" "$(basename $(readlink $P/device))" "$IV"
is "p2pmem0 is a virtual device, not in a p2pmem/ glue directory of the PCI device" \
	"$(readlink -f $P)" /sys/devices/virtual/p2pmem/p2pmem0
check "its uevent names the provider for udev" grep -qx "P2PMEM_PCI=$IV" $P/uevent
check "... and the backend" grep -qx "P2PMEM_BACKEND=$BACKEND" $P/uevent
is "size" "$(attr p2pmem0 size)" 67108864
is "available" "$(attr p2pmem0 available)" 67108864
is "allocated" "$(attr p2pmem0 allocated)" 0
is "bar" "$(attr p2pmem0 bar)" 2
is "offset" "$(attr p2pmem0 offset)" 0x0
set -- $(sed -n 3p /sys/bus/pci/devices/$IV/resource)
is "phys_addr is BAR 2's range" "$(attr p2pmem0 phys_addr)" "$(printf '0x%x-0x%x' $1 $2)"
is "bus_addr equals phys_addr here" "$(attr p2pmem0 bus_addr)" "$(attr p2pmem0 phys_addr)"
is "numa_node matches the PCI device" "$(attr p2pmem0 numa_node)" "$(cat /sys/bus/pci/devices/$IV/numa_node)"
is "backend" "$(attr p2pmem0 backend)" $BACKEND
is "provider" "$(attr p2pmem0 provider)" p2pmem-pci
is "attributes are world-readable, read-only" \
	"$(stat -c %a $P/size $P/available $P/allocated $P/bar $P/offset $P/phys_addr $P/bus_addr $P/numa_node $P/backend $P/provider | sort -u)" 444
check "/dev/p2pmem0 is a character device" test -c /dev/p2pmem0
is "/dev/p2pmem0 has the class device's number" \
	"$(printf '%d:%d' 0x$(stat -c %t /dev/p2pmem0) 0x$(stat -c %T /dev/p2pmem0))" "$(cat $P/dev)"
check "the BAR is claimed as p2pmem in /proc/iomem" grep -q ' : p2pmem$' /proc/iomem

# ---- topology: upstream chain, ACS, host bridge, reachability --------------
# Expected values come from elsewhere: the chain from the sysfs hierarchy,
# port kinds and ACS state from raw config space, the host bridge's
# routing from the CPU (AMD family 17h and later) and the device ID.
EDU=$(find_pci 0x1234 0x11e8)
set -- $(chain_of $IV)
DP0=$1 SWUP=$2 RP0=$3
is "the ivshmem sits under a switch downstream port, its upstream port and a root port" \
	"$(for b in "$@"; do port_kind $b; done | tr '\n' ' ')" "downstream-port upstream-port root-port "
is "upstream lists that chain, nearest first, with kinds and ACS state" \
	"$(cat $P/upstream)" "$(for b in "$@"; do echo "$b $(port_kind $b) acs=$(acs_state $b)"; done)"
for b in "$@"; do echo "#   $b: ACS $(acs_state $b)"; done
want=$(for b in "$@"; do case $(acs_state $b) in none|off) ;; *) printf '%s ' $b ;; esac; done)
want=${want% }
is "acs_redirect names the redirecting ports on the chain" "$(cat $P/acs_redirect)" "${want:-none}"
HOSTP2P=no
grep -q '^vendor_id.*AuthenticAMD' /proc/cpuinfo &&
	[ "$(sed -n 's/^cpu family[^:]*: //p' /proc/cpuinfo | head -n1)" -ge 23 ] && HOSTP2P=yes
H=$(basename $(readlink -f /sys/bus/pci/devices/0000:00:00.0))
is "host_bridge names q35's root complex and whether it routes peer traffic" \
	"$(cat $P/host_bridge)" \
	"$H $(sed s/0x// /sys/bus/pci/devices/$H/vendor):$(sed s/0x// /sys/bus/pci/devices/$H/device) p2p=$HOSTP2P"
SRC=p2pmem
[ "$BACKEND" = kernel ] && SRC=kernel
RC=$H RCID=$(cat $P/host_bridge | cut -d' ' -f2)
# On the native backend a client in a translating IOMMU domain (DMA,
# DMA-FQ: the group's type in sysfs) is handed IOVAs: its traffic to the
# provider goes up to the root complex's IOMMU even under a common switch,
# all the way up from the one and down to the other.  The kernel backend
# gives such peers the bus address (see P2P_DATA above).
translated() {
	[ "$BACKEND" = native ] && grep -q '^DMA' /sys/bus/pci/devices/$1/iommu_group/type 2>/dev/null
}
# want_reach PROVIDER CLIENT DIRECT: what reach should say about CLIENT,
# "DIRECT" (the answer without translation) unless the IOMMU translates.
want_reach() {
	local d
	if translated $2; then
		d=$(( $(chain_of $1 | wc -l) + $(chain_of $2 | wc -l) + 2 ))
		if [ $HOSTP2P = yes ]; then
			echo "$2 host-bridge distance=$d reason=iommu-translated host=$RC host_id=$RCID source=$SRC"
		else
			echo "$2 unsupported reason=iommu-translated host=$RC host_id=$RCID source=$SRC"
		fi
	else
		echo "$2 $3 source=$SRC"
	fi
}
NVWAY=direct
translated $NVPCI && NVWAY="through the IOMMU"
is "reach is empty before the first question" "$(cat $P/reach)" ""
is "reach: the NVMe next door is $NVWAY (source $SRC)" \
	"$(reach p2pmem0 $NVPCI)" "$(want_reach $IV $NVPCI "direct distance=4 via=$SWUP")"
is "reach: the CMB NVMe likewise" \
	"$(reach p2pmem0 $CMB)" "$(want_reach $IV $CMB "direct distance=4 via=$SWUP")"
is "reach: the provider itself" \
	"$(reach p2pmem0 $IV)" "$(want_reach $IV $IV "direct distance=0 via=$IV")"
is "reach: the switch's own downstream port" \
	"$(reach p2pmem0 $DP0)" "$(want_reach $IV $DP0 "direct distance=1 via=$DP0")"
ROUTEVIA="unsupported reason=no-common-bridge"
[ $HOSTP2P = yes ] && ROUTEVIA="host-bridge distance=5 reason=no-common-bridge"
# With no common bridge, every redirecting port on the provider's chain is
# named too.
ACSLIST=$(cat $P/acs_redirect | tr ' ' ',')
[ "$ACSLIST" = none ] && ACSLIST= || ROUTEVIA="$ROUTEVIA acs=$ACSLIST"
want="$ROUTEVIA host=$RC host_id=$RCID source=$SRC"
check "found the device behind a second root port ($EDU)" test -n "$EDU"
is "reach: across root ports ($EDU) goes through the host bridge: $ROUTEVIA" \
	"$(reach p2pmem0 $EDU)" "$EDU ${want/distance=5/distance=6}"
is "reach: a root-complex integrated device ($TD): $ROUTEVIA" \
	"$(reach p2pmem0 $TD)" "$TD $want"
refute "reach: a PCI name that does not exist is refused" sh -c "echo 0000:7f:1f.7 > $P/reach"
check "... and says why" dmesg_has "reach: no PCI device 0000:7f:1f.7"
refute "reach: an empty name is refused" sh -c "echo > $P/reach"
refute "reach: an overlong name is refused" sh -c "echo 0000:00:00.0000000000000000000000000000 > $P/reach"
check "... and says what it wants" dmesg_has "reach: expected a PCI device name"
# A name is echoed into the kernel log when refused: a newline in it must
# not start a line of its own there (sysfs and strim() keep inner newlines).
refute "reach: a name with a newline inside is refused" \
	sh -c "printf '0000:7f:1f.7\nP2PMEM-FAKE-SYSFS' > $P/reach"
refute "... and the text after the newline starts no log line of its own" dmesg_starts P2PMEM-FAKE-SYSFS
is "P2PMEM_IOC_REACH refuses the same kind of name (ENODEV)" \
	"$(p2pmem_test reach /dev/p2pmem0 "$(printf '0000:7f:1f.7\nP2PMEM-FAKE-IOCTL')")" ENODEV
refute "... and starts no log line with it either" dmesg_starts P2PMEM-FAKE-IOCTL
check "... but the log shows the name, escaped" dmesg_has '0000:7f:1f.7\\nP2PMEM-FAKE-IOCTL'
# The ioctl's reply is built on the kernel stack: nothing the answer does
# not fill may reach user space.
p2pmem_test leak /dev/p2pmem0 $NVPCI
is "reach still holds the last good answer" "$(cut -d' ' -f1 $P/reach)" "$TD"
is "topology attributes: reach is root-writable, the rest read-only" \
	"$(stat -c '%n %a' $P/upstream $P/acs_redirect $P/host_bridge $P/reach | sed 's#.*/##')" \
	"$(printf 'upstream 444\nacs_redirect 444\nhost_bridge 444\nreach 644')"
# Redirect on a port of the chain: "upstream" and "acs_redirect" must see
# it at once; a redirecting downstream port between the peers sends their
# traffic through the root complex.
for b in $DP0 $RP0; do
	old=$(acs_ctrl $b) || { echo "#   $b has no ACS capability: redirect not tested there"; continue; }
	acs_ctrl $b $((old | 4 | 8))
	check "with RR+CR set on $b, upstream shows it" grep -q "^$b .* acs=RR+CR" $P/upstream
	check "... and acs_redirect names it" grep -qw "$b" $P/acs_redirect
	# The redirect is the reason, IOMMU or not; a translated client's
	# distance is the whole way up and down.
	if [ $b = $DP0 ]; then
		d=4
		translated $NVPCI && d=8
		is "... and the NVMe next door is no longer direct" \
			"$(reach p2pmem0 $NVPCI | cut -d' ' -f2- | sed 's/ host=.*//')" \
			"$( [ $HOSTP2P = yes ] && echo "host-bridge distance=$d reason=acs-redirect acs=$DP0" || echo "unsupported reason=acs-redirect acs=$DP0")"
	else
		is "... but the root port is above the switch: the NVMe next door is as before" \
			"$(reach p2pmem0 $NVPCI)" "$(want_reach $IV $NVPCI "direct distance=4 via=$SWUP")"
		# QEMU's switch downstream ports have no ACS capability, so the
		# one redirecting port a path can cross here is the root port,
		# on the way to the root port itself.
		d=3
		translated $RP0 && d=5
		is "... and the path up to the root port crosses its redirect" \
			"$(reach p2pmem0 $RP0 | cut -d' ' -f2- | sed 's/ host=.*//')" \
			"$( [ $HOSTP2P = yes ] && echo "host-bridge distance=$d reason=acs-redirect acs=$RP0" || echo "unsupported reason=acs-redirect acs=$RP0")"
	fi
	acs_ctrl $b $old
	is "... and back off: $b redirects as before" "$(acs_ctrl $b)" "$old"
done

# ---- mmap, O_DIRECT, fio ---------------------------------------------------
p2pmem_test mmap /dev/p2pmem0
if [ $P2P_DATA = yes ]; then
	p2pmem_test dio /dev/p2pmem0 "$NV"
	fio --name=p2pmem --filename="$NV" --direct=1 --iomem=mmapshared:/dev/p2pmem0 \
		--ioengine=libaio --iodepth=8 --rw=randwrite --bs=64k --offset=32M --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio.out
	st=$?
	is "fio randwrite+verify with --iomem=mmapshared:/dev/p2pmem0 (libaio, QD8)" "$st" 0
	[ $st = 0 ] || cat /tmp/fio.out
	check "fio reported no errors" grep -q "err= 0" /tmp/fio.out
	fio --name=p2pmem-uring --filename="$NV" --direct=1 --iomem=mmapshared:/dev/p2pmem0 \
		--ioengine=io_uring --iodepth=8 --rw=randrw --bs=64k --offset=32M --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio-uring.out
	st=$?
	is "fio randrw+verify through io_uring (plain buffers, QD8)" "$st" 0
	[ $st = 0 ] || cat /tmp/fio-uring.out
else
	p2pmem_test same /dev/p2pmem0 "$NV" >/dev/null
	BUS=$(attr p2pmem0 bus_addr)
	check "under the IOMMU the kernel gives the NVMe the BAR's direct bus address (${BUS%-*}), which QEMU cannot route" \
		dmesg_has "Request device \[$NVPCI\] fault addr ${BUS%-*}"
fi
is "available == size after fio" "$(attr p2pmem0 available)" 67108864

# ---- RDMA: soft-RoCE on a dummy netdev, rdma-core's verbs -------------------
iproute2-ip link show dummy0 >/dev/null 2>&1 || iproute2-ip link add dummy0 type dummy
iproute2-ip addr add 10.11.12.1/24 dev dummy0
iproute2-ip link set dummy0 up
check "rdma link add rxe0 type rxe netdev dummy0" rdma link add rxe0 type rxe netdev dummy0
wait_for 50 grep -q "0000:0000:0000:0000:0000:ffff:0a0b:0c01" /sys/class/infiniband/rxe0/ports/1/gids/*
if [ "$BACKEND" = kernel ]; then
	p2pmem_rdma /dev/p2pmem0 rxe0 EREMOTEIO
else
	p2pmem_rdma /dev/p2pmem0 rxe0 ok
fi
wait_for 50 test "$(attr p2pmem0 available)" = 67108864
is "available == size after RDMA" "$(attr p2pmem0 available)" 67108864
check "rdma link delete rxe0" rdma link delete rxe0

# ---- unbind with a user present -------------------------------------------
p2pmem_test hold /dev/p2pmem0 > /tmp/hold.out &
HP=$!
wait_for 50 grep -q HOLDING /tmp/hold.out
check "a process holds a mapping" grep -q HOLDING /tmp/hold.out
refute "rmmod is refused while /dev/p2pmem0 is mapped" rmmod p2pmem
check "unbind with the mapping present" sh -c "echo $IV > $DRV/unbind"
refute "unbind removes p2pmem0" test -e $P
refute "unbind removes /dev/p2pmem0" test -e /dev/p2pmem0
refute "unbind releases the BAR" grep -q ' : p2pmem$' /proc/iomem
kill -USR1 $HP
wait $HP
is "the holder's mapping was revoked (SIGBUS on access)" $? 42
check "bind again through the bind file" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
check "a p2pmem device is back ($C)" test -n "$C" -a -c "/dev/$C"
is "... with all of its memory available" "$(attr $C available)" 67108864

# ---- long-lived pins ------------------------------------------------------
if [ "$BACKEND" = kernel ]; then
	# The kernel refuses P2PDMA pages to every pinner that does not ask
	# for them (FOLL_PCI_P2PDMA); nothing from user space can hold a pin
	# past an O_DIRECT request, so the wait below cannot be staged here.
	p2pmem_test gup /dev/$C EREMOTEIO EREMOTEIO
	check "the kernel's p2pdma core knows the BAR (p2pmem/allocate exists)" \
		test -f /sys/bus/pci/devices/$IV/p2pmem/allocate
	is "... and it is not published to other drivers" "$(cat /sys/bus/pci/devices/$IV/p2pmem/published)" 0
else
p2pmem_test gup /dev/$C $URING_FIXED ok
# ---- unbind while a pipe pins pages, with no mapping and no open file -----
p2pmem_test pin /dev/$C > /tmp/pin.out &
PP=$!
wait_for 50 grep -q PINNED /tmp/pin.out
is "pages vmspliced into a pipe stay allocated after munmap+close" "$(attr $C allocated)" 65536
# The wait for the pin must neither look like a hung task nor stay silent:
# the hung-task watchdog is lowered to 2 s and the report period to 2 s.
HUNG=/proc/sys/kernel/hung_task_timeout_secs
OLDHUNG=$(cat $HUNG 2>/dev/null)
[ -n "$OLDHUNG" ] && echo 2 > $HUNG
check "the pin report period can be set (pin_report_secs=2)" \
	sh -c "echo 2 > /sys/module/p2pmem/parameters/pin_report_secs"
rm -f /tmp/unbind.done
(echo $IV > $DRV/unbind; touch /tmp/unbind.done) &
wait_for 50 dmesg_has "$C: waiting for 64 KiB still pinned by I/O"
check "unbind reports the pinned memory it waits for" dmesg_has "$C: waiting for 64 KiB still pinned by I/O"
refute "unbind blocks while the pipe holds the pages" test -e /tmp/unbind.done
refute "the device cannot be opened while it is going away" sh -c ": < /dev/$C"
check "the BAR stays claimed while DMA may still target it" grep -q ' : p2pmem$' /proc/iomem
sleep 7
refute "unbind still blocks after 7 s" test -e /tmp/unbind.done
n=$(dmesg | grep -c "$C: still waiting for 64 KiB pinned by I/O")
check "... and says so every 2 s ($n reports)" test "$n" -ge 2
[ -n "$OLDHUNG" ] && check "the hung-task watchdog is on (timeout 2 s)" test "$(cat $HUNG)" = 2
refute "... and finds no hung task in the wait" dmesg_has "blocked for more than"
kill -USR1 $PP
wait $PP
is "the pipe still yields the pinned bytes" $? 0
wait_for 100 test -e /tmp/unbind.done
check "unbind completes once the pipe is drained" test -e /tmp/unbind.done
[ -n "$OLDHUNG" ] && echo $OLDHUNG > $HUNG
refute "... and removes $C" test -e /sys/class/p2pmem/$C
check "bind again" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
fi
check "rmmod with no users" rmmod p2pmem
is "rmmod leaves no class devices" "$(ls /sys/class/p2pmem 2>/dev/null)" ""
refute "rmmod leaves no char major" grep -q ' p2pmem$' /proc/devices
refute "rmmod leaves no iomem claim" grep -q p2pmem /proc/iomem

# ---- unbind racing four processes that map, touch, do I/O and unmap -------
check "insmod ids=1af4:1110 for the race" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
PIDS=""
for i in 1 2 3 4; do p2pmem_test churn /dev/$C "$NV" & PIDS="$PIDS $!"; done
sleep 3
check "unbind while four processes churn" sh -c "echo $IV > $DRV/unbind"
bad=0
for p in $PIDS; do wait $p || bad=$((bad + 1)); done
is "every churning process saw only ENODEV, EFAULT or SIGBUS" $bad 0
check "bind again after the race" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
is "... with all of its memory available" "$(attr $C available)" 67108864
check "rmmod after the race" rmmod p2pmem

# ---- driver_override and new_id -------------------------------------------
check "insmod without ids=" insmod $KO adopt=0 nvme_cmb=0
is "... binds nothing" "$(ls /sys/class/p2pmem)" ""
echo p2pmem > /sys/bus/pci/devices/$IV/driver_override
echo $IV > /sys/bus/pci/drivers_probe
check "driver_override binds the device" test -n "$(child_of $IV)"
echo $IV > $DRV/unbind
echo > /sys/bus/pci/devices/$IV/driver_override
is "unbind after driver_override" "$(child_of $IV)" ""
# A dynamic ID's driver_data is "BAR + 1"; one past the BARs is refused
# before it is used as a BAR index.
echo "1af4 1110 ffffffff ffffffff 0 0 99" > $DRV/new_id
is "new_id with driver_data 0x99 (no such BAR) binds nothing" "$(child_of $IV)" ""
check "... and says why" dmesg_has "p2pmem: dynamic ID driver_data 0x99 names no BAR"
check "remove_id takes that ID away again" sh -c "echo '1af4 1110 ffffffff ffffffff 0 0' > $DRV/remove_id"
echo "1af4 1110" > $DRV/new_id
check "new_id binds the device" test -n "$(child_of $IV)"
rmmod p2pmem
# bars= names the BAR a driver_override bind publishes.  BAR 0 of the
# ivshmem is its 256-byte register BAR, which the driver refuses as
# unaligned: proof that the entry, not the default (BAR 2), was used.
BARS=/sys/module/p2pmem/parameters/bars
unaligned() { dmesg | grep -c -- "p2pmem $IV: p2pmem: BAR 0 range .* is not aligned"; }
n=$(unaligned)
check "insmod bars=0000:7f:00.0:1,$IV:0" insmod $KO adopt=0 nvme_cmb=0 bars=0000:7f:00.0:1,$IV:0
echo p2pmem > /sys/bus/pci/devices/$IV/driver_override
echo $IV > /sys/bus/pci/drivers_probe
is "... a driver_override bind takes BAR 0 from it, which is refused" "$(child_of $IV)" ""
is "... as unaligned, once" "$(unaligned)" $((n + 1))
echo "$IV:2" > $BARS
echo $IV > /sys/bus/pci/drivers_probe
is "bars=$IV:2 written at run time: BAR 2" "$(attr "$(child_of $IV)" bar)" 2
echo $IV > $DRV/unbind
echo "$IV:7" > $BARS
echo $IV > /sys/bus/pci/drivers_probe
is "bars=$IV:7 (no such BAR) binds nothing" "$(child_of $IV)" ""
check "... and says why" dmesg_has "p2pmem $IV: p2pmem: bad bars= entry \"$IV:7\""
echo > $BARS
echo > /sys/bus/pci/devices/$IV/driver_override
rmmod p2pmem

# ---- PCIe hot-unplug and hot-add with a user present ----------------------
# The hot-added ivshmem gets a second backing file (QEMU 7.2 cannot
# re-attach a memory backend once it has been used), so the proof below runs
# on the hot-added device and the host checks ivshmem-hotplug.bin.
check "insmod ids=1af4:1110 for hot-plug" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
p2pmem_test hold /dev/$C > /tmp/hold2.out &
HP=$!
wait_for 50 grep -q HOLDING /tmp/hold2.out
echo 'HOTPLUG {"execute":"device_del","arguments":{"id":"iv0"}}'
wait_for 300 test ! -e /sys/bus/pci/devices/$IV
refute "hot-unplug removes the PCI function" test -e /sys/bus/pci/devices/$IV
refute "... and its p2pmem device" test -e /sys/class/p2pmem/$C
kill -USR1 $HP
wait $HP
is "the holder's mapping was revoked by the hot-unplug (SIGBUS)" $? 42
echo 'HOTPLUG {"execute":"device_add","arguments":{"driver":"ivshmem-plain","id":"iv0","memdev":"shm1","bus":"dp0"}}'
wait_for 300 has_child $IV
C=$(child_of $IV)
check "hot-add brings a p2pmem device back ($C)" test -n "$C"
is "... with all of its memory available" "$(attr $C available)" 67108864
check "rmmod after hot-plug" rmmod p2pmem

# ---- the NVMe CMB: adopted from the nvme driver, or registered by p2pmem ----
# nvme_unbind_revokes NODE HOW: with the CMB's NODE mapped, unbinding nvme
# revokes the mapping and removes NODE; binding nvme again brings the CMB
# back ("the CMB is HOW again").
nvme_unbind_revokes() {
	local hp
	p2pmem_test hold /dev/$1 > /tmp/hold3.out &
	hp=$!
	wait_for 50 grep -q HOLDING /tmp/hold3.out
	check "unbinding nvme while /dev/$1 is mapped" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/unbind"
	refute "... removes $1" test -e /sys/class/p2pmem/$1
	kill -USR1 $hp
	wait $hp
	is "... and revokes the mapping (SIGBUS)" $? 42
	check "binding nvme again" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/bind"
	wait_for 100 has_child $CMB
	check "the CMB is $2 again ($(child_of $CMB))" has_child $CMB
}
# cmb_zeroing NODE: the CMB is MMIO that QEMU sees written (unlike the
# RAM-backed ivshmem BAR), so zeroing is checked here: what a previous user
# left reads back as zeros, a process killed while its large mapping is
# being zeroed dies promptly and gives everything back, and unbinding nvme
# meanwhile does not wait for the zeroing.
cmb_zeroing() {
	p2pmem_test zero /dev/$1 $( [ $P2P_DATA = yes ] && echo "$NV")
	p2pmem_test kill /dev/$1
	p2pmem_test zap /dev/$1 /sys/bus/pci/drivers/nvme/unbind $CMB
	refute "... and removed $1" test -e /sys/class/p2pmem/$1
	check "binding nvme again after the zap" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/bind"
	wait_for 100 has_child $CMB
	check "the CMB is back ($(child_of $CMB))" has_child $CMB
}
if [ "$BACKEND" = kernel ]; then
	K=/sys/bus/pci/devices/$CMB/p2pmem
	check "the nvme driver registered its CMB with the kernel's p2pdma core" test -f $K/allocate
	is "... and published it" "$(cat $K/published)" 1
	check "insmod (no ids=) for adoption" insmod $KO
	A=$(child_of $CMB)
	check "p2pmem adopts the CMB ($A)" test -n "$A" -a -c "/dev/$A"
	is "its backend" "$(attr $A backend)" kernel
	is "its provider is the owning driver" "$(attr $A provider)" nvme
	is "its size is the kernel's pool size" "$(attr $A size)" "$(cat $K/size)"
	is "its available is the kernel's" "$(attr $A available)" "$(cat $K/available)"
	is "its bar is the CMB's BAR" "$(attr $A bar)" 2
	check "the kernel's p2pmem/ group is intact beside it" test -f $K/size -a -f $K/available -a -f $K/published
	is "the provider's sysfs holds no p2pmem class glue" "$(ls $K)" "allocate
available
published
size"
	if [ $P2P_DATA = yes ]; then
		p2pmem_test dio /dev/$A "$NV"
		# Side by side with upstream: the same workload through our node and
		# through the kernel's own allocate file over the same CMB.
		p2pmem_test same /dev/$A "$NV" > /tmp/same-ours.out
		cat /tmp/same-ours.out | grep -v ^DIGEST
		p2pmem_test same $K/allocate "$NV" > /tmp/same-kernel.out
		cat /tmp/same-kernel.out | grep -v ^DIGEST
		is "/dev/$A and p2pmem/allocate read the same bytes" \
			"$(grep ^DIGEST /tmp/same-ours.out)" "$(grep ^DIGEST /tmp/same-kernel.out)"
		check "... and the digest is not empty" grep -q "^DIGEST [0-9a-f]" /tmp/same-ours.out
	fi
	p2pmem_test gup /dev/$A EREMOTEIO EREMOTEIO
	cmb_zeroing $A
	A=$(child_of $CMB)
	check "the CMB's own NVMe still does I/O with p2pmem on its CMB" \
		sh -c "dd if=/dev/urandom of=/tmp/r bs=64k count=16 2>/dev/null && dd if=/tmp/r of=$NVC bs=64k oflag=direct 2>/dev/null && dd if=$NVC of=/tmp/r2 bs=64k count=16 iflag=direct 2>/dev/null && cmp /tmp/r /tmp/r2"
	nvme_unbind_revokes $A adopted
	check "rmmod with an adopted CMB" rmmod p2pmem
	check "... leaves the kernel's CMB registration alone" test -f $K/allocate
	check "insmod adopt=0" insmod $KO adopt=0
	refute "... adopts nothing" has_child $CMB
	rmmod p2pmem
else
	# Without the p2pdma core the nvme driver leaves its CMB idle ("failed
	# to register the CMB"); p2pmem registers it itself (nvme_cmb=1).
	check "the nvme driver could not register the CMB itself" dmesg_has "nvme.*failed to register the CMB"
	check "insmod (no ids=): NVMe CMBs are registered by default" insmod $KO
	X=$(child_of $CMB)
	check "the NVMe's CMB is a p2pmem device ($X)" test -n "$X" -a -c "/dev/$X"
	is "its backend" "$(attr $X backend)" native
	is "its provider" "$(attr $X provider)" nvme-cmb
	is "its size is the CMB's (CMBSZ: 64 x 1 MiB)" "$(attr $X size)" 67108864
	is "its bar is CMBLOC.BIR" "$(attr $X bar)" 2
	is "its offset is CMBLOC.OFST" "$(attr $X offset)" 0x0
	is "the nvme driver still owns the controller" \
		"$(basename $(readlink /sys/bus/pci/devices/$CMB/driver))" nvme
	dd if=/dev/urandom of=/tmp/r bs=64k count=16 2>/dev/null
	# The controller's own I/O, while its CMB takes peer DMA.
	( bad=0
	  for i in $(seq 10); do
		dd if=/tmp/r of=$NVC bs=64k oflag=direct 2>/dev/null &&
		dd if=$NVC of=/tmp/r2 bs=64k count=16 iflag=direct 2>/dev/null &&
		cmp -s /tmp/r /tmp/r2 || bad=1
	  done
	  exit $bad ) &
	IOP=$!
	if [ $P2P_DATA = yes ]; then
		p2pmem_test dio /dev/$X "$NV"
	fi
	wait $IOP
	is "the CMB's own controller kept doing verified I/O meanwhile" $? 0
	cmb_zeroing $X
	X=$(child_of $CMB)
	nvme_unbind_revokes $X registered
	# A pin on the CMB keeps the nvme unbind waiting; meanwhile every other
	# bind and unbind in the system must go on (no global lock held across
	# the wait).
	X=$(child_of $CMB)
	p2pmem_test pin /dev/$X > /tmp/pin2.out &
	PP=$!
	wait_for 50 grep -q PINNED /tmp/pin2.out
	rm -f /tmp/cmbunbind.done
	(echo $CMB > /sys/bus/pci/drivers/nvme/unbind; touch /tmp/cmbunbind.done) &
	wait_for 50 dmesg_has "$X: waiting for 64 KiB still pinned by I/O"
	refute "unbinding nvme from the CMB controller waits for the pinned CMB pages" test -e /tmp/cmbunbind.done
	echo p2pmem > /sys/bus/pci/devices/$IV/driver_override
	rm -f /tmp/other.done
	(echo $IV > /sys/bus/pci/drivers_probe && echo $IV > $DRV/unbind && touch /tmp/other.done) &
	wait_for 50 test -e /tmp/other.done
	check "... while another device binds and unbinds freely" test -e /tmp/other.done
	# Let go first: with the bug this is what ends the stall.
	kill -USR1 $PP
	wait $PP
	is "the pipe still yields the pinned CMB bytes" $? 0
	wait_for 100 test -e /tmp/other.done
	echo > /sys/bus/pci/devices/$IV/driver_override
	wait_for 100 test -e /tmp/cmbunbind.done
	check "the nvme unbind completes once the pipe is drained" test -e /tmp/cmbunbind.done
	check "binding nvme again" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/bind"
	wait_for 100 has_child $CMB
	check "rmmod with a registered CMB" rmmod p2pmem
	check "insmod nvme_cmb=0" insmod $KO nvme_cmb=0
	refute "... registers no CMB" has_child $CMB
	rmmod p2pmem
fi
# Hot-plug of a CMB controller: the bus notifier sees the new controller
# bound and gives its CMB a p2pmemN (adopted from the nvme driver on
# P2PDMA kernels, registered by p2pmem elsewhere).  The CMB drive is a
# -blockdev, which survives the controller's removal.
check "insmod (no ids=) for CMB hot-plug" insmod $KO
wait_for 100 has_child $CMB
check "the CMB has a p2pmem device before hot-unplug" has_child $CMB
echo 'HOTPLUG {"execute":"device_del","arguments":{"id":"cmb0"}}'
wait_for 300 test ! -e /sys/bus/pci/devices/$CMB
refute "hot-unplug of the CMB controller removes it" test -e /sys/bus/pci/devices/$CMB
refute "... and no p2pmem device is left for it" has_child $CMB
echo 'HOTPLUG {"execute":"device_add","arguments":{"driver":"nvme","id":"cmb0","drive":"nvm1","serial":"p2pcmb0","cmb_size_mb":64,"bus":"dp2"}}'
wait_for 300 has_child $CMB
H=$(child_of $CMB)
check "hot-add of a CMB controller brings a p2pmem device ($H)" test -n "$H" -a -c "/dev/$H"
want=67108864
[ "$BACKEND" = kernel ] && want=$(cat /sys/bus/pci/devices/$CMB/p2pmem/size)
is "... of the CMB's size" "$(attr $H size)" "$want"
is "... whose provider is right for the backend" "$(attr $H provider)" \
	"$( [ "$BACKEND" = kernel ] && echo nvme || echo nvme-cmb)"
is "... and the NVMe next door reaches it as the ivshmem's ($NVWAY)" "$(reach $H $NVPCI)" \
	"$(want_reach $CMB $NVPCI "direct distance=4 via=$SWUP")"
if [ $P2P_DATA = yes ]; then
	p2pmem_test dio /dev/$H "$NV"
fi
check "rmmod after CMB hot-plug" rmmod p2pmem

# ---- a CMB controller p2pmem does not own ----------------------------------
# Given to user space (uio_pci_generic, as SPDK does; vfio-pci for a VM is
# the same case) and brought up there: p2pmem must neither program its CMB
# registers nor map its CMB, at load, on bind or from its retry work.
# cmb_regs: CMBLOC, CMBSZ and CMBMSC as the controller's owner reads them.
cmb_regs() { p2pmem_test nvme-regs $CMB; }
check "unbinding the CMB controller from nvme" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/unbind"
echo uio_pci_generic > /sys/bus/pci/devices/$CMB/driver_override
check "binding it to uio_pci_generic" sh -c "echo $CMB > /sys/bus/pci/drivers_probe"
is "... which owns it now" "$(basename "$(readlink /sys/bus/pci/devices/$CMB/driver)")" uio_pci_generic
check "user space enables it (admin queue registers, CC.EN, until CSTS.RDY)" p2pmem_test nvme-enable $CMB
R0=$(cmb_regs)
is "... with its CMB off (CAP.CMBS: CMBLOC and CMBSZ read 0 while CMBMSC is 0)" \
	"$R0" "CMBLOC=0x00000000 CMBSZ=0x00000000 CMBMSC=0x0000000000000000"
check "insmod (no ids=) with the controller in user space's hands" insmod $KO
# The retry work asks every 100 ms: give it several rounds.
sleep 1
refute "... gives its CMB no p2pmem device" has_child $CMB
is "... and leaves its CMB registers as they were" "$(cmb_regs)" "$R0"
# (P2PDMA kernels: p2pmem only adopts memory a driver published, and
# uio_pci_generic publishes none.)
[ "$BACKEND" = native ] &&
	check "... saying why" dmesg_has "$CMB: p2pmem: not touching the CMB of an NVMe controller bound to uio_pci_generic"
# Bound while p2pmem is loaded and not ready yet, then brought up: the
# bus notifier and the retry work must leave it alone as well.
check "user space disables it" p2pmem_test nvme-disable $CMB
check "unbinding it from uio_pci_generic" sh -c "echo $CMB > /sys/bus/pci/drivers/uio_pci_generic/unbind"
check "binding it to uio_pci_generic again, p2pmem loaded" sh -c "echo $CMB > /sys/bus/pci/drivers_probe"
check "user space enables it again" p2pmem_test nvme-enable $CMB
sleep 1
refute "... its CMB gets no p2pmem device" has_child $CMB
is "... and its CMB registers are as they were" "$(cmb_regs)" "$R0"
check "rmmod" rmmod p2pmem
# Back to nvme for the sections that follow.
p2pmem_test nvme-disable $CMB
echo $CMB > /sys/bus/pci/drivers/uio_pci_generic/unbind
echo > /sys/bus/pci/devices/$CMB/driver_override
echo $CMB > /sys/bus/pci/drivers/nvme/bind
wait_for 100 sh -c "ls /sys/bus/pci/devices/$CMB/nvme/nvme*/serial"
check "the CMB controller is back with nvme" sh -c "ls /sys/bus/pci/devices/$CMB/nvme/nvme*/serial"

# ---- a CMB above 4 GiB -------------------------------------------------------
# A 1 GiB CMB does not fit in q35's 32-bit PCI window next to the other
# BARs, so SeaBIOS puts the 64-bit BARs above 4 GiB (this one and, with it,
# every other 64-bit BAR of the machine).  Its controller's namespace holds
# pattern seed 1, like the other NVMe's.
HINS=$(nvme_ns_by_serial p2phicmb)
HI=$(ns_pci $HINS)
set -- $(sed -n 3p /sys/bus/pci/devices/$HI/resource)
HIBAR=$(printf '0x%x-0x%x' $1 $2)
HISTART=$1
check "the 1 GiB CMB's BAR 2 ($HIBAR) lies above 4 GiB" test $((HISTART >= 0x100000000)) = 1
check "insmod (no ids=) with a CMB above 4 GiB" insmod $KO
wait_for 100 has_child $HI
G=$(child_of $HI)
check "that CMB is a p2pmem device ($G)" test -n "$G" -a -c "/dev/$G"
is "... over all of its BAR" "$(attr $G phys_addr)" "$HIBAR"
# Its own controller DMAs into and out of it.  Not under the IOMMU: there
# the controller gets an IOVA, not its CMB's address, so QEMU sends the DMA
# back into the controller's own MMIO and blocks it ("Blocked re-entrant IO
# on MemoryRegion: nvme-cmb").
if [ $P2P_DATA = yes ] && [ -z "$EXPECT_IOMMU" ]; then
	p2pmem_test same /dev/$G "$HINS" | grep -v ^DIGEST
fi
check "rmmod with a CMB above 4 GiB" rmmod p2pmem
# CMBMSC.CBA holds all 64 bits of the CMB's bus address (written high half
# first): read back by user space once the controller is handed to it.
echo $HI > /sys/bus/pci/drivers/nvme/unbind
echo uio_pci_generic > /sys/bus/pci/devices/$HI/driver_override
echo $HI > /sys/bus/pci/drivers_probe
is "its controller decodes the CMB at the BAR's 64-bit address (CMBMSC)" \
	"$(p2pmem_test nvme-regs $HI | sed 's/.*CMBMSC=//')" "$(printf '0x%016x' $((HISTART | 3)))"
echo $HI > /sys/bus/pci/drivers/uio_pci_generic/unbind
echo > /sys/bus/pci/devices/$HI/driver_override
echo $HI > /sys/bus/pci/drivers/nvme/bind
wait_for 100 sh -c "ls /sys/bus/pci/devices/$HI/nvme/nvme*/serial"
check "... and is back with nvme" sh -c "ls /sys/bus/pci/devices/$HI/nvme/nvme*/serial"

# ---- the p2pmem CLI (libkmod, libp2pmem) and udev rules -------------------
# The real systemd-udevd runs our rules; the CLI loads the module through
# libkmod from /lib/modules/$(uname -r)/extra (depmod'ed), like an install.
mount -t tmpfs tmpfs /run
/lib/systemd/systemd-udevd --daemon
check "systemd-udevd is running" wait_for 50 udevadm control --ping
if [ -n "$P2PMEM_DKMS" ]; then
	check "the module libkmod finds is the one DKMS built from the package" \
		grep -q "^updates/dkms/p2pmem.ko:" /lib/modules/$(uname -r)/modules.dep
fi
mv /lib/modules/$(uname -r) /tmp/modules.away
refute "p2pmem load with no module installed for this kernel: refused" p2pmem load
check "... saying so" sh -c "p2pmem load 2>&1 | grep -q 'module p2pmem not found for kernel $(uname -r)'"
mv /tmp/modules.away /lib/modules/$(uname -r)
refute "p2pmem unload: refused while not loaded" p2pmem unload
check "... and says so" sh -c "p2pmem unload 2>&1 | grep -q 'p2pmem is not loaded'"
refute "p2pmem load bogus=1: an unknown parameter is refused" p2pmem load bogus=1
check "... naming the parameters the module has" sh -c "p2pmem load bogus=1 2>&1 | grep -q 'unknown parameter \"bogus\" (the module has: .*ids'"
refute "p2pmem load ids=zzzz: a bad value is refused by the module" p2pmem load adopt=0 nvme_cmb=0 ids=zzzz
check "... and the CLI says so" sh -c "p2pmem load ids=zzzz 2>&1 | grep -q 'refused its parameters'"
refute "... leaving nothing loaded" test -d /sys/module/p2pmem
# Parameters reach the module whole, or not at all: a string parameter may
# be up to 1024 bytes (the kernel's limit), the command line longer.
ids_list() { # N -> "1af4:1110" and N more IDs that no device has
	local i=0 s=1af4:1110
	while [ $i -lt $1 ]; do s=$s,1af4:$(printf %04x $((0x2000 + i))); i=$((i + 1)); done
	echo $s
}
LONGIDS=$(ids_list 101)
check "p2pmem load adopt=0 nvme_cmb=0 ids=<${#LONGIDS} bytes>" p2pmem load adopt=0 nvme_cmb=0 ids=$LONGIDS
is "... gives the module the whole value" "$(cat /sys/module/p2pmem/parameters/ids 2>/dev/null)" "$LONGIDS"
[ -d /sys/module/p2pmem ] && rmmod p2pmem
TOOLONG=$(ids_list 110)
refute "p2pmem load ids=<${#TOOLONG} bytes>: more than the kernel takes, refused" p2pmem load adopt=0 nvme_cmb=0 ids=$TOOLONG
check "... saying so" sh -c "p2pmem load adopt=0 nvme_cmb=0 ids=$TOOLONG 2>&1 | grep -q 'parameter ids: value too long (${#TOOLONG} bytes, the kernel takes at most 1024)'"
refute "... leaving nothing loaded" test -d /sys/module/p2pmem
[ -d /sys/module/p2pmem ] && rmmod p2pmem
check "p2pmem load ids=1af4:1110 adopt=0 nvme_cmb=0 (libkmod lookup)" \
	p2pmem load ids=1af4:1110 adopt=0 nvme_cmb=0
is "... loaded with those parameters" "$(cat /sys/module/p2pmem/parameters/ids)" 1af4:1110
refute "p2pmem load again: already loaded" p2pmem load
udevadm settle
C=$(child_of $IV)
is "udev: /dev/$C is root:p2pmem 0660" "$(stat -c '%U:%G %a' /dev/$C)" "root:p2pmem 660"
is "udev: /dev/p2pmem/by-path/pci-$IV points at it" "$(readlink -f /dev/p2pmem/by-path/pci-$IV)" /dev/$C
check "alice (in group p2pmem) opens it by path" su alice -s /bin/sh -c "exec 3<>/dev/p2pmem/by-path/pci-$IV"
check "... and maps and uses it" su alice -s /bin/sh -c "p2pmem_test mmap /dev/$C"
is "nobody (not in the group) gets EACCES" \
	"$(su nobody -s /bin/sh -c "exec 3</dev/$C" 2>&1 | grep -o 'Permission denied')" "Permission denied"
set -- $(p2pmem list | grep "^$C ")
is "p2pmem list: name, PCI, id, provider, backend, size, available, node" "$*" \
	"$C $IV 1af4:1110 p2pmem-pci $BACKEND 64 MiB 64 MiB $(cat /sys/bus/pci/devices/$IV/numa_node)"
check "p2pmem --json list" sh -c "p2pmem --json list | grep -q '\"name\":\"$C\",\"pci\":\"$IV\",\"vendor\":\"1af4\",\"device\":\"1110\",\"provider\":\"p2pmem-pci\",\"backend\":\"$BACKEND\",\"size\":67108864'"
p2pmem list -t > /tmp/tree
sed 's/^/#   /' /tmp/tree
check "p2pmem list -t: the ivshmem carries $C, under its switch port" \
	grep -q "^      $IV \[1af4:1110\] .*<$C 64 MiB $BACKEND>" /tmp/tree
# libp2pmem ranks and lists by the same answer as reach.
if ! translated $NVPCI; then
	check "... the NVMe next door reaches it directly, 4 hops" grep -q "^      $NVPCI .* -> $C direct 4" /tmp/tree
elif [ $HOSTP2P = yes ]; then
	check "... the NVMe next door reaches it through the IOMMU at the root complex, 8 hops" \
		grep -q "^      $NVPCI .* -> $C host-bridge 8" /tmp/tree
else
	check "... the NVMe next door does not reach it: its IOMMU sends it to a root complex that may not route it" \
		sh -c "grep '^      $NVPCI ' /tmp/tree | grep -qv -- '->'"
fi
check "... the device behind the other root port does not" sh -c "grep '^  *$EDU ' /tmp/tree | grep -qv -- '->'"
check "p2pmem --json list -t has every PCI function" \
	test "$(p2pmem --json list -t | grep -o '"pci":' | wc -l)" = "$(ls /sys/bus/pci/devices | wc -l)"
check "p2pmem info: the upstream chain" sh -c "p2pmem info $C | grep -qx 'upstream: $DP0 downstream-port acs=none'"
check "p2pmem info: pci and host bridge" sh -c "p2pmem info $C | grep -qx 'pci: $IV' && p2pmem info $C | grep -q '^host_bridge: '"
refute "p2pmem info p2pmem99: no such device" p2pmem info p2pmem99
if ! translated $NVPCI; then
	is "p2pmem check NVMe CMB-NVMe: $C, direct, 8 hops in all" \
		"$(su alice -s /bin/sh -c "p2pmem check $NVPCI $CMB" | cut -d' ' -f1-4)" "$C $IV direct distance=8"
	check "p2pmem --json check" sh -c "p2pmem --json check $NVPCI | grep -q '^\[{\"name\":\"$C\",\"pci\":\"$IV\",\"host_bridge_routes\":0,\"distance\":4,'"
elif [ $HOSTP2P = yes ]; then
	is "p2pmem check NVMe CMB-NVMe: $C, through the host bridge, 16 hops in all" \
		"$(su alice -s /bin/sh -c "p2pmem check $NVPCI $CMB" | cut -d' ' -f1-4)" "$C $IV host-bridge distance=16"
	check "p2pmem --json check" sh -c "p2pmem --json check $NVPCI | grep -q '^\[{\"name\":\"$C\",\"pci\":\"$IV\",\"host_bridge_routes\":1,\"distance\":8,'"
else
	refute "p2pmem check NVMe CMB-NVMe: none, their IOMMU sends them through a root complex that may not route it" \
		su alice -s /bin/sh -c "p2pmem check $NVPCI $CMB"
	is "p2pmem --json check: an empty list" "$(p2pmem --json check $NVPCI)" "[]"
fi
check "p2pmem --json info has the upstream chain" sh -c "p2pmem --json info $C | grep -q '\"upstream\":\[\"$DP0 downstream-port acs=none\",'"
refute "p2pmem check with the far device: none for all of them" p2pmem check $NVPCI $EDU
refute "p2pmem check 0000:7f:00.0: no such PCI device" p2pmem check 0000:7f:00.0
check "... and says so" sh -c "p2pmem check 0000:7f:00.0 2>&1 | grep -q 'no PCI device 0000:7f:00.0'"
is "p2pmem check as nobody: EACCES, not a wrong answer" \
	"$(su nobody -s /bin/sh -c "p2pmem check $NVPCI" 2>&1)" "p2pmem: check: Permission denied"
if [ $P2P_DATA = yes ]; then
	dd if=$NV of=/tmp/before bs=1M count=4 iflag=direct 2>/dev/null
	p2pmem test $C --nvme $NV > /tmp/selftest 2>&1
	is "p2pmem test $C --nvme $NV passes" "$(tail -n1 /tmp/selftest)" "PASSED: 4194304 bytes through $C and $NV"
	sed 's/^/#   /' /tmp/selftest
	dd if=$NV of=/tmp/after bs=1M count=4 iflag=direct 2>/dev/null
	check "... and leaves the namespace's bytes as they were" cmp /tmp/before /tmp/after
fi
# p2pmem test maps its first argument and writes a pattern through the
# mapping: anything but a p2pmem node there (a disk, a file) loses data.
NVCB=$(basename $NVC)
dd if=$NVC of=/tmp/nvc.before bs=1M count=4 iflag=direct 2>/dev/null
refute "p2pmem test $NVCB (a disk, not a p2pmem node) --nvme $NV: refused" p2pmem test $NVCB --nvme $NV
check "... saying it is no p2pmem device" sh -c "p2pmem test $NVCB --nvme $NV 2>&1 | grep -q '$NVCB: not a p2pmem device'"
sync
dd if=$NVC of=/tmp/nvc.after bs=1M count=4 iflag=direct 2>/dev/null
check "... and $NVC's bytes are unchanged" cmp /tmp/nvc.before /tmp/nvc.after
dd if=/dev/urandom of=/tmp/victim bs=1M count=4 2>/dev/null
cp /tmp/victim /tmp/victim.orig
refute "p2pmem test ../tmp/victim (a regular file) --nvme $NV: refused" p2pmem test ../tmp/victim --nvme $NV
check "... and the file is unchanged" cmp /tmp/victim /tmp/victim.orig
# A namespace in use elsewhere (mounted, or opened O_EXCL) is refused.
p2pmem_test excl $NV > /tmp/excl.out &
EP=$!
wait_for 50 grep -q EXCLUSIVE /tmp/excl.out
check "another process holds $NV exclusively" grep -q EXCLUSIVE /tmp/excl.out
refute "p2pmem test $C --nvme $NV while it is held O_EXCL: refused" p2pmem test $C --nvme $NV
check "... saying it is in use" sh -c "p2pmem test $C --nvme $NV 2>&1 | grep -q '$NV: in use (mounted or opened exclusively)'"
kill -USR1 $EP; wait $EP
# --json output is JSON whatever the strings hold.
for a in "list" "list -t" "info $C" "check $NVPCI"; do
	check "p2pmem --json $a is valid JSON" sh -c "p2pmem --json $a | json_check"
done
if [ $P2P_DATA = yes ]; then
	# A --nvme path (a symlink to the namespace) with a quote, a backslash,
	# a tab, a control character and a byte that is not UTF-8.
	W=$(printf '/tmp/q"b\\t\t\001\377')
	ln -s $NV "$W"
	p2pmem --json test $C --nvme "$W" > /tmp/json.test 2>/dev/null
	sed 's/^/#   /' /tmp/json.test
	check "p2pmem --json test with such a --nvme path prints valid JSON" sh -c "json_check < /tmp/json.test"
	check "... with the path escaped (\\\", \\\\, \\t, \\u0001, \\ufffd)" \
		grep -qF '"nvme":"/tmp/q\"b\\t\t\u0001\ufffd"' /tmp/json.test
	rm -f "$W"
fi
p2pmem_test hold /dev/$C > /tmp/hold4.out &
HP=$!
wait_for 50 grep -q HOLDING /tmp/hold4.out
refute "p2pmem unload while mapped: refused" p2pmem unload
check "... says it is in use" sh -c "p2pmem unload 2>&1 | grep -q 'is in use'"
kill -USR1 $HP; wait $HP
check "p2pmem unbind $IV" p2pmem unbind $IV
udevadm settle
refute "udev: the by-path link goes away on unbind" test -e /dev/p2pmem/by-path/pci-$IV
refute "p2pmem unbind again: not bound" p2pmem unbind $IV
check "p2pmem bind $IV --bar 2" p2pmem bind $IV --bar 2
udevadm settle
is "... gives it a p2pmem device of BAR 2" "$(attr $(child_of $IV) bar)" 2
is "... named in the module's bars parameter, not in a dynamic ID" "$(cat /sys/module/p2pmem/parameters/bars)" "$IV:2"
refute "p2pmem bind $IV again: already bound" p2pmem bind $IV
refute "p2pmem bind $NVPCI: bound to nvme" p2pmem bind $NVPCI
check "... and says so" sh -c "p2pmem bind $NVPCI 2>&1 | grep -q 'is bound to nvme; unbind it from nvme first'"
refute "p2pmem bind 0000:7f:00.0: no such device" p2pmem bind 0000:7f:00.0
check "p2pmem unload" p2pmem unload
refute "... the module is gone" test -d /sys/module/p2pmem
# By serial: an NVMe controller's CMB as its own p2pmemN.
check "p2pmem load (defaults: NVMe CMBs included)" p2pmem load
wait_for 100 has_child $CMB
udevadm settle
is "udev: /dev/p2pmem/by-serial/nvme-p2pcmb0 names the CMB's node" \
	"$(readlink -f /dev/p2pmem/by-serial/nvme-p2pcmb0)" "/dev/$(child_of $CMB)"
check "p2pmem unload" p2pmem unload
udevadm settle
refute "udev: ... and it goes away with the module" test -e /dev/p2pmem/by-serial/nvme-p2pcmb0
check "p2pmem load --ko FILE (a module outside /lib/modules)" p2pmem load --ko $KO adopt=0 nvme_cmb=0
# bind --bar binds the one device named, never another unbound device with
# the same IDs: hot-add a second ivshmem (1af4:1110) on the empty port dp3.
drv_of() { basename "$(readlink /sys/bus/pci/devices/$1/driver 2>/dev/null)" 2>/dev/null; }
other_iv() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1110 ] &&
			[ "${d##*/}" != "$IV" ] && { echo "${d##*/}"; return; }
	done
}
has_other_iv() { test -n "$(other_iv)"; }
check "p2pmem unbind $IV (bound again by its driver_override)" p2pmem unbind $IV
echo 'HOTPLUG {"execute":"device_add","arguments":{"driver":"ivshmem-plain","id":"iv1","memdev":"shm2","bus":"dp3"}}'
wait_for 300 has_other_iv
IV2=$(other_iv)
check "a second ivshmem with the same IDs is hot-added ($IV2)" test -n "$IV2"
is "... and no driver takes it" "$(drv_of $IV2)" ""
echo "0000:7f:00.0:1,$IV:0" > /sys/module/p2pmem/parameters/bars
check "p2pmem bind $IV --bar 2 with it present" p2pmem bind $IV --bar 2
is "... gives $IV a p2pmem device of BAR 2" "$(attr $(child_of $IV) bar)" 2
is "... replacing $IV's bars entry and keeping the others'" \
	"$(cat /sys/module/p2pmem/parameters/bars)" "0000:7f:00.0:1,$IV:2"
is "... and leaves $IV2 unbound" "$(drv_of $IV2)" ""
# Its BAR 2 gets no space on the hot-plug port, so a probe fails; the
# driver must not even have tried it.
refute "... and the driver never probed $IV2" dmesg_has "p2pmem $IV2: "
check "p2pmem unbind $IV" p2pmem unbind $IV
is "p2pmem unbind leaves the bars entry" "$(cat /sys/module/p2pmem/parameters/bars)" "0000:7f:00.0:1,$IV:2"
refute "p2pmem bind $IV --bar 0 (its 256-byte register BAR): refused by the driver" p2pmem bind $IV --bar 0
is "... and bars is as it was" "$(cat /sys/module/p2pmem/parameters/bars)" "0000:7f:00.0:1,$IV:2"
is "... $IV2 is still unbound" "$(drv_of $IV2)" ""
# (An unset driver_override reads "(null)".)
is "... and neither keeps a driver_override" \
	"$(cat /sys/bus/pci/devices/$IV/driver_override /sys/bus/pci/devices/$IV2/driver_override | sed 's/^(null)$//' | tr -d '\n')" ""
echo 'HOTPLUG {"execute":"device_del","arguments":{"id":"iv1"}}'
wait_for 300 test ! -e /sys/bus/pci/devices/$IV2
refute "the second ivshmem is unplugged again" test -e /sys/bus/pci/devices/$IV2
check "... and unload" p2pmem unload
udevadm control --exit

# ---- leave bytes for the host to check ------------------------------------
insmod $KO ids=1af4:1110
[ $P2P_DATA = yes ] && p2pmem_test proof /dev/$(child_of $IV) "$NV"
rmmod p2pmem

# ---- last, since it cannot be undone: signature enforcement -----------------
# What Secure Boot does to an unenrolled DKMS key: module.sig_enforce can
# only be switched on.  Neither the bench's build nor DKMS's here is signed
# by a key the kernel trusts.
if [ -w /sys/module/module/parameters/sig_enforce ]; then
	echo 1 > /sys/module/module/parameters/sig_enforce
	refute "with signatures enforced, p2pmem load is refused" p2pmem load --ko $KO
	check "... and says why (Secure Boot, enroll the key)" \
		sh -c "p2pmem load --ko $KO 2>&1 | grep -q 'rejected the module.s signature (Secure Boot'"
fi
