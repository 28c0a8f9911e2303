# Helpers for the guest suites; every check prints one TAP line.
# The VM's devices (QEMU ids, serials, sizes), as the host made them.
. /tests/vm.conf
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
# skip DESC REASON: a check that is not made here, and why (what this
# kernel or QEMU cannot do); it counts as passed, listed as skipped.
skip() { echo "ok - $1 # SKIP $2"; }
# setup DESC CMD...: a section's setup step (loading the module it works
# on): silent when CMD succeeds, a failing check when it does not.
setup() { d=$1; shift; "$@" >/dev/null 2>&1 || notok "$d"; }
# check DESC CMD...: pass when CMD succeeds.
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }
# refute DESC CMD...: pass when CMD fails.
refute() { d=$1; shift; if "$@" >/dev/null 2>&1; then notok "$d"; else ok "$d"; fi; }
# is DESC GOT WANT
is() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1 (got '$2', want '$3')"; fi; }

find_pci() { # vendor device -> first matching BDF
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor)" = "$1" ] && [ "$(cat $d/device)" = "$2" ] && { basename $d; return; }
	done
}
nvme_ns_by_serial() { # serial -> /dev/nvmeXn1 (numbering differs between kernels)
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat $c/serial | tr -d ' ')" = "$1" ] && { echo /dev/$(basename $c)n1; return; }
	done
}
ns_pci() { # /dev/nvmeXnY -> the controller's PCI function
	basename "$(readlink -f /sys/class/nvme/$(basename ${1%n1})/device)"
}
# secs_now: seconds since boot; took T0: seconds since secs_now gave T0.
secs_now() { cut -d' ' -f1 /proc/uptime; }
took() { awk -v a="$1" -v b="$(secs_now)" 'BEGIN { printf "%.1f", b - a }'; }
dmesg_has() { dmesg | grep -q -- "$1"; }
# dmesg_starts TEXT: some kernel log line begins with TEXT (after the
# timestamp), i.e. TEXT could pass for a message of its own.
dmesg_starts() { dmesg | grep -q -- "^\(\[[ 0-9.]*\] \)\{0,1\}$1"; }
# zeroing_done: no p2pmem device has free memory waiting for its background
# zeroing (sysfs zero_pending, native backend).
zeroing_done() {
	local f
	for f in /sys/class/p2pmem/*/zero_pending; do
		[ -e "$f" ] || continue
		[ "$(cat "$f" 2>/dev/null || echo 0)" = 0 ] || return 1
	done
}
# hotplug JSON: have the host send a QMP command (tests/lib/vm.sh reads the
# HOTPLUG line), once the background zeroing is done.  The host's QEMU 7.2
# under TCG can crash (SIGSEGV in memory_region_dispatch_write() with no
# region, under helper_le_stq_mmu(), in a core dump) when a vCPU stores to
# device memory while another thread changes the memory map for a hot-plug:
# seen 4 times in 4 runs of 70-cmb on trixie while p2pmem zeroed the 1 GiB
# CMB in the background, never with the zeroing off.  Real hardware has no
# such race; the bench keeps the two apart.
hotplug() {
	wait_for 3000 zeroing_done
	echo "HOTPLUG $1"
}
# wait_for TENTHS CMD...: poll CMD every 0.1 s until it succeeds or TENTHS
# polls have passed; the check that follows says whether it came true.
wait_for() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
attr() { cat "/sys/class/p2pmem/$1/$2"; }
# attr_is NODE ATTR VALUE: read afresh each time (for wait_for; a
# "$(attr ...)" argument would be read once, before the first poll).
attr_is() { [ "$(attr "$1" "$2")" = "$3" ]; }
# The p2pmemN of a PCI function, whatever its number: every p2pmemN's
# "device" link names its provider.
child_of() {
	local c
	for c in /sys/class/p2pmem/p2pmem*; do
		[ "$(basename "$(readlink "$c/device" 2>/dev/null)")" = "$1" ] && { basename "$c"; return; }
	done
}
has_child() { test -n "$(child_of $1)"; }
# where_is NODE: where /sys/class/p2pmem/NODE really is; child_dir NODE BDF:
# where it is as a child of PCI function BDF, i.e. directly in BDF's
# directory (no glue directory between them).
where_is() { readlink -f "/sys/class/p2pmem/$1"; }
child_dir() { echo "$(readlink -f "/sys/bus/pci/devices/$2")/$1"; }
# The bridges above a PCI function, nearest first, from its sysfs path (the
# kernel's own device hierarchy).
chain_of() {
	local p
	p=$(readlink -f /sys/bus/pci/devices/$1)
	p=${p%/*}
	while :; do
		case ${p##*/} in
		????:??:??.?) echo "${p##*/}"; p=${p%/*} ;;
		*) return ;;
		esac
	done
}
# acs_pos BDF: offset of the ACS capability in config space, or nothing.
acs_pos() {
	local cfg=/sys/bus/pci/devices/$1/config off=256 h n=0
	while [ $off -ne 0 ] && [ $n -lt 64 ]; do
		h=$(od -An -tu4 -j $off -N4 $cfg | tr -d ' ')
		[ -n "$h" ] && [ "$h" != 0 ] || return
		[ $((h & 0xffff)) -eq 13 ] && { echo $off; return; }
		off=$((h >> 20))
		n=$((n + 1))
	done
}
# acs_ctrl BDF [VALUE]: read (or write) the ACS Control register.
acs_ctrl() {
	local pos cfg=/sys/bus/pci/devices/$1/config
	pos=$(acs_pos $1)
	[ -n "$pos" ] || return 1
	if [ $# -gt 1 ]; then
		printf "$(printf '\\%03o\\%03o' $(($2 & 255)) $(($2 >> 8)))" |
			dd of=$cfg bs=1 seek=$((pos + 6)) count=2 conv=notrunc 2>/dev/null
	else
		od -An -tu2 -j $((pos + 6)) -N2 $cfg | tr -d ' '
	fi
}
# acs_state BDF: what "upstream" should say about a port, from the raw
# register: none (no capability), off, or the redirecting bits RR, CR, EC.
acs_state() {
	local c s=
	c=$(acs_ctrl $1) || { echo none; return; }
	[ $((c & 4)) -ne 0 ] && s=RR
	[ $((c & 8)) -ne 0 ] && s=${s:+$s+}CR
	[ $((c & 32)) -ne 0 ] && s=${s:+$s+}EC
	echo ${s:-off}
}
port_kind() { # BDF -> root-port / upstream-port / downstream-port, from the PCIe capability
	local off h t n=0
	off=$(od -An -tu1 -j 52 -N1 /sys/bus/pci/devices/$1/config | tr -d ' ')
	while [ "$off" -ne 0 ] && [ $n -lt 48 ]; do
		h=$(od -An -tu2 -j $off -N2 /sys/bus/pci/devices/$1/config | tr -d ' ')
		if [ $((h & 255)) -eq 16 ]; then
			t=$(od -An -tu2 -j $((off + 2)) -N2 /sys/bus/pci/devices/$1/config | tr -d ' ')
			case $(((t >> 4) & 15)) in
			4) echo root-port ;; 5) echo upstream-port ;; 6) echo downstream-port ;; *) echo other ;;
			esac
			return
		fi
		off=$((h >> 8))
		n=$((n + 1))
	done
	echo pci-bridge
}
# reach P2PMEMN BDF: ask the p2pmemN about a PCI function, print the verdict.
reach() { echo "$2" > /sys/class/p2pmem/$1/reach && cat /sys/class/p2pmem/$1/reach; }
# On the native backend a client in a translating IOMMU domain (DMA,
# DMA-FQ: the group's type in sysfs) is handed IOVAs: its traffic to the
# provider goes up to the root complex's IOMMU even under a common switch,
# all the way up from the one and down to the other.  The kernel backend
# gives such peers the bus address (see P2P_DATA in suite.sh).
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
