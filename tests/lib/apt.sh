# SPDX-License-Identifier: GPL-2.0
# Host packages and the Debian suites (apt).
# Sourced by tests/run.

HOST_PACKAGES="qemu-system-x86 busybox-static fio gcc gcc-12 make libc6-dev cpio
	gzip kmod sparse xz-utils zstd bc flex bison libelf-dev libssl-dev dwarves
	socat mmdebstrap libibverbs-dev ibverbs-providers rdma-core iproute2 perftest
	libkmod-dev libjson-c-dev pkg-config udev debhelper dh-dkms dpkg-dev fakeroot"

install_packages() { # install the given Debian packages if missing
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >"$OUT/apt.log" 2>&1 || { cat "$OUT/apt.log"; die "apt-get install failed"; }
}

# ---- the Debian mirror ------------------------------------------------------
# Everything the bench fetches from Debian (the other suites below, the
# mmdebstrap build and DKMS roots) comes from the mirror the host's own apt
# uses, so a host behind a local mirror or a proxy needs no edit here.
SUITES_FILE=/etc/apt/sources.list.d/p2pmem-bench.sources

# host_codename: the host's Debian suite (bookworm).
host_codename() {
	sed -n 's/^VERSION_CODENAME=//p' /etc/os-release
}

# debian_uri SUITE: the URI of the first enabled "deb" source for SUITE in
# the host's apt configuration: sources.list and sources.list.d's one-line
# *.list and deb822 *.sources files (ours, SUITES_FILE, excepted).  Prints
# nothing if there is none.
debian_uri() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && [ "$f" != "$SUITES_FILE" ] || continue
		case $f in
		*.sources)
			awk -v want="$1" '
			function flush() {
				if (!found && en != "no" && (" " ty " ") ~ / deb / && (" " su " ") ~ (" " want " ")) {
					split(ur, u, " ")
					print u[1]
					found = 1
				}
				ty = ur = su = en = ""
			}
			/^#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { if (k == "uris") ur = ur " " $0; else if (k == "suites") su = su " " $0; next }
			{
				k = tolower($0); sub(/:.*/, "", k)
				v = $0; sub(/^[^:]*:[ \t]*/, "", v)
				if (k == "types") ty = v
				else if (k == "uris") ur = v
				else if (k == "suites") su = v
				else if (k == "enabled") en = tolower(v)
			}
			END { flush() }' "$f"
			;;
		*)
			awk -v want="$1" '
			{ sub(/#.*/, ""); gsub(/\[[^]]*\]/, "") }
			$1 == "deb" && $3 == want { print $2; exit }' "$f"
			;;
		esac
	done | head -n1 | sed 's|/*$||'
}

# debian_mirror: the host suite's mirror, or a clear error.
debian_mirror() {
	local c m
	c=$(host_codename)
	m=$(debian_uri "$c")
	[ -n "$m" ] || die "no 'deb' source for the host's suite '$c' in /etc/apt/sources.list or /etc/apt/sources.list.d: the bench fetches the other Debian suites, its build roots and DKMS roots from the mirror the host uses"
	echo "$m"
}

# Other suites are added with pin priority 1: apt can download from them,
# but never installs or upgrades anything on the host from them.  They come
# from the host's mirror; a change of mirror rewrites the files.
add_suites() {
	local f=$SUITES_FILE new
	local p=/etc/apt/preferences.d/p2pmem-bench s
	new=$(cat <<-EOF
	Types: deb
	URIs: $MIRROR
	Suites: bookworm-backports trixie sid bullseye
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	)
	[ -f "$f" ] && [ -f "$p" ] && [ "$(cat "$f")" = "$new" ] && return 0
	say "adding bookworm-backports, trixie, sid and bullseye from $MIRROR to apt at pin priority 1" >&2
	echo "$new" >"$f"
	: >"$p"
	for s in bookworm-backports trixie sid bullseye; do
		printf 'Package: *\nPin: release n=%s\nPin-Priority: 1\n\n' "$s" >>"$p"
	done
	locked apt apt-get update -qq >/dev/null
}

# download PKG[/SUITE]... into the current directory
download() {
	apt-get download -qq "$@" >/dev/null 2>&1 || die "apt-get download $* failed"
}

# deb_dep DEB PATTERN: the names in DEB's Depends that match PATTERN
deb_dep() {
	dpkg-deb -f "$1" Depends | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -E "$2" || true
}

