# The suite's driver: module load/unload, sysfs, mmap, O_DIRECT, fio, unbind
# and rebind, hot-plug, and on kernels with CONFIG_PCI_P2PDMA
# (BACKEND=kernel) the kernel backend, adoption of the NVMe CMB and the
# kernel's own refusals.  Runs as PID 1's child in the test VM; BACKEND,
# EXPECT_IOMMU, P2PMEM_DKMS and SECTIONS come from the host.
#
# It finds the devices and sets what every section uses, then runs the
# sections, suite.d/NN-NAME.sh in name order (only those SECTIONS names by
# number or name, if set), each in a subshell of its own, each printed as a
# KTAP subtest: "# Subtest: NN-NAME", the section's lines indented by four
# spaces with its checks numbered, its plan, then "ok K NN-NAME" or
# "not ok K NN-NAME".  Each section starts and ends with p2pmem unloaded;
# one that does not is a failing check (and the module is unloaded).
. /tests/lib.sh
KO=/p2pmem.ko
# Every section but the CMB ones loads with adopt=0 nvme_cmb=0, so that the
# NVMe's CMB does not take a p2pmemN of its own there.
IV=$(find_pci 0x1af4 0x1110)
TD=$(find_pci 0x1b36 0x0005)
EDU=$(find_pci 0x1234 0x11e8)
NV=$(nvme_ns_by_serial $NV_SERIAL)
NVC=$(nvme_ns_by_serial $CMB_SERIAL)
CMB=$(ns_pci $NVC)
NVPCI=$(ns_pci $NV)
DRV=/sys/bus/pci/drivers/p2pmem
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
# for exactly this fault instead (see "direct bus address" in suite.d).
P2P_DATA=yes
[ "$BACKEND" = kernel ] && [ -n "$EXPECT_IOMMU" ] && P2P_DATA=no
# The topology, for the answers reach and the CLI should give.  Expected
# values come from elsewhere than the module: the ivshmem's chain of
# bridges (its switch downstream port, upstream port, root port) from the
# sysfs hierarchy, the host bridge's routing from the CPU (AMD family 17h
# and later) and its ID.
set -- $(chain_of $IV)
DP0=$1 SWUP=$2 RP0=$3
HOSTP2P=no
grep -q '^vendor_id.*AuthenticAMD' /proc/cpuinfo &&
	[ "$(sed -n 's/^cpu family[^:]*: //p' /proc/cpuinfo | head -n1)" -ge 23 ] && HOSTP2P=yes
RC=$(basename $(readlink -f /sys/bus/pci/devices/0000:00:00.0))
RCID=$(sed s/0x// /sys/bus/pci/devices/$RC/vendor):$(sed s/0x// /sys/bus/pci/devices/$RC/device)
SRC=p2pmem
[ "$BACKEND" = kernel ] && SRC=kernel
NVWAY=direct
translated $NVPCI && NVWAY="through the IOMMU"

# selected NAME: SECTIONS (comma-separated numbers or names) is empty or
# names the section NAME (NN-NAME).
selected() {
	local s
	[ -z "$SECTIONS" ] && return 0
	for s in $(echo "$SECTIONS" | tr , ' '); do
		case $1 in "$s" | "$s"-* | *-"$s") return 0 ;; esac
	done
	return 1
}
# ktap: a section's output as the body of its subtest: its checks ("ok - "
# and "not ok - " lines, its programs' included) numbered within it, every
# line indented; the number of checks and of failures go to /tmp/ktap.count.
# It stops at the line END-OF-SECTION, not at the end of its input: a
# process a failing section left behind may hold the pipe open for ever.
ktap() {
	awk '
	$0 == "END-OF-SECTION" { exit }
	/^(not )?ok - / {
		n++
		if (/^not/) { bad++; sub(/^not ok - /, "not ok " n " - ") }
		else sub(/^ok - /, "ok " n " - ")
	}
	{ print "    " $0; fflush() }
	END { print n + 0, bad + 0 > "/tmp/ktap.count" }'
}
# unloaded WHEN: a failing check if p2pmem is loaded, and unload it.
unloaded() {
	[ -d /sys/module/p2pmem ] || return 0
	rmmod p2pmem 2>/dev/null
	notok "p2pmem is unloaded $1 (it was not: rmmod $([ -d /sys/module/p2pmem ] && echo failed || echo done))"
}

echo "KTAP version 1"
K=0
for f in /tests/suite.d/*.sh; do
	name=$(basename $f .sh)
	selected $name || continue
	K=$((K + 1))
	echo "# Subtest: $name"
	{
		unloaded "at the start of $name"
		# A section that exits, dies or has a syntax error before its
		# end must not pass with the checks it reached.
		rm -f /tmp/section.done
		( . $f; : >/tmp/section.done )
		if [ -e /tmp/section.done ]; then ok "$name ran to its end"; else notok "$name ran to its end (it stopped early)"; fi
		unloaded "at the end of $name"
		echo END-OF-SECTION
	} 2>&1 | ktap
	read n bad < /tmp/ktap.count
	echo "    1..$n"
	if [ "$bad" = 0 ]; then echo "ok $K $name"; else echo "not ok $K $name"; fi
done
echo "1..$K"
