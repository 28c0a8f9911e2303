# SPDX-License-Identifier: GPL-2.0
# Results and messages: TAP lines, bail-out, the cache's locks.
# Sourced by tests/run.

say() { echo "# $*"; }
# host_check DESCRIPTION CMD...: one result from CMD's status (set -e would
# otherwise end the run at the first failing check).
host_check() {
	local d=$1
	shift
	if "$@"; then result 0 "$d"; else result 1 "$d"; fi
}
die() { echo "Bail out! $*" >&2; exit 2; }
# locked NAME CMD...: CMD under an exclusive lock in the cache, so that two
# runs of the bench (two checkouts on one machine) never fill the same cache
# entry or run apt at the same time.
locked() {
	local l=$1
	shift
	{ flock 9 && "$@"; } 9>"$CACHE/.lock-$l"
}

# ---- results -------------------------------------------------------------
NTEST=0
NPASS=0
NFAIL=0
SKIPPED=()
# A DESCRIPTION ending in "# SKIP REASON" is a check that was not made (what
# a kernel cannot do): it passes, and the summary lists it.
result() { # result 0|1 DESCRIPTION
	NTEST=$((NTEST + 1))
	if [ "$1" = 0 ]; then
		NPASS=$((NPASS + 1))
		echo "ok $NTEST - $2"
		case $2 in *" # SKIP"*) SKIPPED+=("ok $NTEST - $2") ;; esac
	else
		NFAIL=$((NFAIL + 1))
		echo "not ok $NTEST - $2"
	fi
}


# summary: the skipped checks, then the line the bench ends with.
summary() {
	local s
	if [ ${#SKIPPED[@]} -gt 0 ]; then
		say "${#SKIPPED[@]} of the $NPASS passed were skipped:"
		for s in "${SKIPPED[@]}"; do say "  $s"; done
	fi
	echo "$NPASS passed, $NFAIL failed"
}
