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
