# ---- last, since it cannot be undone: signature enforcement -----------------
# What Secure Boot does to an unenrolled DKMS key: module.sig_enforce can
# only be switched on.  Neither the bench's build nor DKMS's here is signed
# by a key the kernel trusts.
if [ -w /sys/module/module/parameters/sig_enforce ]; then
	echo 1 > /sys/module/module/parameters/sig_enforce
	refute "with signatures enforced, p2pmem load is refused" p2pmem load --ko $KO
	check "... and says why (Secure Boot, enroll the key)" \
		sh -c "p2pmem load --ko $KO 2>&1 | grep -q 'rejected the module.s signature (Secure Boot'"
else
	skip "with signatures enforced, p2pmem load is refused" "this kernel's module.sig_enforce cannot be switched on at run time"
fi
