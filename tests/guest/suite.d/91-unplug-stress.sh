# ---- the stress load while the provider goes away: unbind, hot-unplug -------
# The load of 90-stress.sh (p2pmem_stress load --gone, plus one thread per
# process that keeps 8 O_DIRECT reads in flight) runs while the ivshmem is
# unbound through sysfs, then while it is hot-unplugged through QMP.  The
# documented ends are the only acceptable ones (open: ENODEV/ENOENT/ENXIO,
# mmap: ENODEV, access: SIGBUS, O_DIRECT: EFAULT/EIO); no process may crash
# or hang, every one must be done within 30 s of the provider going, and
# the host's judge reads dmesg.
# With O_DIRECT, the NVMe's reads are slowed to 1 MiB/s (QMP
# block_set_io_throttle, through the host's QMP forwarder) for the two
# removals: reads are then always in flight when the provider goes, and
# the module's "waiting for ... still pinned by I/O" proves it.
# The ivshmem comes back on memdev IV_REPLUG_MEM (QEMU 7.2 cannot attach
# IV_HOTPLUG_MEM again), which maps the same file, IV_HOTPLUG_FILE, so the bytes the
# proof leaves later are where the host looks for them.
S91=$(secs_now)
NVARG=
[ $P2P_DATA = yes ] && NVARG="--nvme $NV"
# throttle BPS: cap the NVMe's reads at BPS bytes/s (0: no cap) and wait
# until a 2 MiB O_DIRECT read takes as long as that says (QEMU allows a
# burst of a tenth of a second's worth).
direct_read_ms() {
	local t0
	t0=$(secs_now)
	dd if=$NV of=/dev/null bs=1M count=${2:-2} skip=$1 iflag=direct 2>/dev/null
	awk -v a="$t0" -v b="$(secs_now)" 'BEGIN { printf "%d", (b - a) * 1000 }'
}
# Throttled to 1 MiB/s, 2 MiB take about two seconds (less QEMU's burst);
# unthrottled, 2 MiB took up to ~300 ms under KASAN, far less on a stock
# kernel.  1 MiB/s, not faster: on the debug kernel the revocation itself
# takes long enough for faster reads to drain before the module looks.
throttled() { [ $(direct_read_ms 2) -ge 1000 ]; }
throttle() {
	echo "HOTPLUG {\"execute\":\"block_set_io_throttle\",\"arguments\":{\"device\":\"$NV_DRIVE\",\"bps\":0,\"bps_rd\":$1,\"bps_wr\":0,\"iops\":0,\"iops_rd\":0,\"iops_wr\":0}}"
	if [ $1 = 0 ]; then
		wait_for 30 eval '! throttled'
	else
		wait_for 30 throttled
	fi
}
# gone_load NAME: start the load on /dev/$C, return once it runs.
gone_load() {
	: >/tmp/$1.out
	p2pmem_stress load /dev/$C --threads 16 --procs 3 --secs 60 --grace 30 --gone \
		--seed $(cut -d' ' -f1 /proc/uptime | tr -d .)$$ $NVARG >/tmp/$1.out 2>&1 &
	GP=$!
	wait_for 600 grep -q '^LOADING' /tmp/$1.out
	check "$1 stress: the load runs${NVARG:+, O_DIRECT in flight}" grep -q '^LOADING' /tmp/$1.out
	DMESG0=$(dmesg | wc -l)
}
# gone_done NAME: the load's results, once it has ended by itself.
gone_done() {
	wait $GP
	is "$1 stress: p2pmem_stress exits 0" $? 0
	grep -v '^LOADING' /tmp/$1.out
	if [ -n "$NVARG" ]; then
		dmesg | tail -n +$((DMESG0 + 1)) > /tmp/$1.dmesg
		check "$1 stress: the removal waited for O_DIRECT reads in flight ($(grep -o 'waiting for .* KiB' /tmp/$1.dmesg))" \
			grep -q "waiting for .* still pinned by I/O" /tmp/$1.dmesg
		check "$1 stress: ... until they were done" grep -q "pinned memory released after" /tmp/$1.dmesg
	fi
}

check "unbind stress: insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
t=$(secs_now)
if [ -n "$NVARG" ]; then
	throttle 1048576
	check "the NVMe's reads are slowed to 1 MiB/s for the removals ($(direct_read_ms 4) ms for 2 MiB)" throttled
else
	skip "unbind stress: with O_DIRECT in flight" \
		"the kernel backend under QEMU's IOMMU: direct P2P DMA faults (see P2P_DATA)"
fi
gone_load unbind
rm -f /tmp/unbind-stress.done
(echo $IV > $DRV/unbind; touch /tmp/unbind-stress.done) &
wait_for 600 test -e /tmp/unbind-stress.done
check "unbind stress: unbinding $IV under the load completes" test -e /tmp/unbind-stress.done
refute "unbind stress: ... and removes $C" test -e /sys/class/p2pmem/$C
gone_done unbind
check "unbind stress: bind again" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
is "unbind stress: ... with all of its memory available" "$(attr $C available)" "$(attr $C size)"
echo "# time: unbind stress $(took $t) s"

t=$(secs_now)
[ $P2P_DATA = yes ] ||
	skip "hot-unplug stress: with O_DIRECT in flight" \
		"the kernel backend under QEMU's IOMMU: direct P2P DMA faults (see P2P_DATA)"
gone_load unplug
# Not hotplug(): the point is to unplug under the load, which keeps pages
# coming back to be zeroed (see hotplug() in lib.sh for what that risks).
echo 'HOTPLUG {"execute":"device_del","arguments":{"id":"'$IV_ID'"}}'
wait_for 600 test ! -e /sys/bus/pci/devices/$IV
refute "hot-unplug stress: the PCI function goes under the load" test -e /sys/bus/pci/devices/$IV
refute "hot-unplug stress: ... and $C with it" test -e /sys/class/p2pmem/$C
gone_done unplug
if [ -n "$NVARG" ]; then
	throttle 0
	check "the NVMe's reads are at full speed again ($(direct_read_ms 6) ms for 2 MiB)" eval '! throttled'
fi
hotplug '{"execute":"device_add","arguments":{"driver":"ivshmem-plain","id":"'$IV_ID'","memdev":"'$IV_REPLUG_MEM'","bus":"'$IV_PORT'"}}'
wait_for 300 has_child $IV
C=$(child_of $IV)
check "hot-unplug stress: hot-add brings a p2pmem device back ($C)" test -n "$C"
is "hot-unplug stress: ... with all of its memory available" "$(attr $C available)" "$(attr $C size)"
p2pmem_stress cycles /dev/$C --count 1000
is "hot-unplug stress: ... and it maps, touches and unmaps (exit 0)" $? 0
check "hot-unplug stress: rmmod" rmmod p2pmem
echo "# time: hot-unplug stress $(took $t) s"
echo "# time: section 91-unplug-stress $(took $S91) s"
