# ---- topology: upstream chain, ACS, host bridge, reachability --------------
# Expected values come from elsewhere: the chain from the sysfs hierarchy,
# port kinds and ACS state from raw config space, the host bridge's
# routing from the CPU (AMD family 17h and later) and the device ID.
setup "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
P=/sys/class/p2pmem/p2pmem0
# (suite.sh finds the chain, DP0 SWUP RP0, and the host bridge, RC RCID.)
set -- $(chain_of $IV)
is "the ivshmem sits under a switch downstream port, its upstream port and a root port" \
	"$(for b in "$@"; do port_kind $b; done | tr '\n' ' ')" "downstream-port upstream-port root-port "
is "upstream lists that chain, nearest first, with kinds and ACS state" \
	"$(cat $P/upstream)" "$(for b in "$@"; do echo "$b $(port_kind $b) acs=$(acs_state $b)"; done)"
for b in "$@"; do echo "#   $b: ACS $(acs_state $b)"; done
want=$(for b in "$@"; do case $(acs_state $b) in none|off) ;; *) printf '%s ' $b ;; esac; done)
want=${want% }
is "acs_redirect names the redirecting ports on the chain" "$(cat $P/acs_redirect)" "${want:-none}"
is "host_bridge names q35's root complex and whether it routes peer traffic" \
	"$(cat $P/host_bridge)" "$RC $RCID p2p=$HOSTP2P"
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
	old=$(acs_ctrl $b) || { skip "redirect on $b shows in upstream, acs_redirect and reach" "$b has no ACS capability"; continue; }
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
setup "rmmod" rmmod p2pmem
