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
refute "writing bars=$IV:7 (no such BAR) is refused" sh -c "echo $IV:7 > $BARS"
check "... and says why" dmesg_has "p2pmem: bad bars= entry \"$IV:7\""
is "... and bars keeps $IV:2" "$(cat $BARS)" "$IV:2"
# A good list longer than the kernel keeps (1024 bytes) is refused with ENOSPC,
# logged at most as often as the rate limit allows: the kernel's own
# "string parameter too long" is not rate-limited, so p2pmem answers first.
n0=$(dmesg | grep -c 'string parameter too long')
m0=$(dmesg | grep -c 'bars= is longer than')
long=$(for i in $(seq 80); do printf '%s:2,' $IV; done)
for i in $(seq 30); do echo "$long" > $BARS 2>/dev/null; done
is "30 over-long bars= writes: none reaches the kernel's unlimited complaint" $(($(dmesg | grep -c 'string parameter too long') - n0)) 0
m1=$(($(dmesg | grep -c 'bars= is longer than') - m0))
check "... p2pmem says so, rate-limited ($m1 lines, 1 to 10)" test $m1 -ge 1 -a $m1 -le 10
is "... and bars keeps $IV:2" "$(cat $BARS)" "$IV:2"
echo > $BARS
echo > /sys/bus/pci/devices/$IV/driver_override
rmmod p2pmem
