# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared settings for the vtdp scripts.  Sourced, never executed.
#
# Everything downloaded or expensive to rebuild lives under $VTDP_CACHE,
# outside the checkout, so a fresh clone on the same machine is fast.

VTDP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VTDP_CACHE=${VTDP_CACHE:-$HOME/.cache/vtdp}
VTDP_BUILD=${VTDP_BUILD:-$VTDP_TOP/build}
export VTDP_TOP VTDP_CACHE VTDP_BUILD

# Pinned inputs.  The QEMU upstream version is checked against the Debian
# source package; the guest kernel version is resolved at setup time from
# the bookworm-backports meta package and recorded in $VTDP_CACHE/env.
VTDP_QEMU_SUITE=bookworm-backports
VTDP_QEMU_MAJOR=10.0

export CCACHE_DIR=${CCACHE_DIR:-$VTDP_CACHE/ccache}

vtdp_log() { printf '[vtdp] %s\n' "$*" >&2; }
vtdp_die() { printf '[vtdp] error: %s\n' "$*" >&2; exit 1; }

# Load what setup recorded (kernel version, unpacked package paths).
vtdp_load_env() {
	[ -f "$VTDP_CACHE/env" ] || vtdp_die "no $VTDP_CACHE/env: run scripts/setup first"
	# shellcheck disable=SC1091
	. "$VTDP_CACHE/env"
}
