# ---- the devices every section uses (found by suite.sh) -------------------
check "found the ivshmem provider ($IV), pci-testdev ($TD), NVMe ($NV) and NVMe with a CMB ($CMB)" \
	test -n "$IV" -a -n "$TD" -a -b "$NV" -a -b "$NVC"
echo "# backend under test: $BACKEND"
if [ -n "$EXPECT_IOMMU" ]; then
	# The NVMe must sit in a translating domain, or this run proves nothing.
	G=$(readlink -f /sys/bus/pci/devices/$NVPCI/iommu_group)
	check "the NVMe ($NVPCI) is behind the IOMMU" test -d "$G"
	check "... in a translating DMA domain ($(cat $G/type 2>/dev/null))" grep -q '^DMA' $G/type
fi
