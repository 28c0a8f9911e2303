# Helpers for the guest suites; every check prints one TAP line.
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
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
dmesg_has() { dmesg | grep -q -- "$1"; }
# wait_for TENTHS CMD...: poll CMD every 0.1 s until it succeeds or TENTHS
# polls have passed; the check that follows says whether it came true.
wait_for() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
attr() { cat "/sys/class/p2pmem/$1/$2"; }
# The p2pmemN of a PCI function, whatever its number: every p2pmemN's
# "device" link names its provider.
child_of() {
	local c
	for c in /sys/class/p2pmem/p2pmem*; do
		[ "$(basename "$(readlink "$c/device" 2>/dev/null)")" = "$1" ] && { basename "$c"; return; }
	done
}
has_child() { test -n "$(child_of $1)"; }
