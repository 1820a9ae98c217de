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
	# The patched QEMU tree and its build.  Shared by every checkout on the
	# machine by default (one build at a time, under a lock); a checkout
	# whose hw-model/ differs from the others' (a topic branch) sets its own
	# so the checkouts don't keep re-syncing and rebuilding each other's.
	VTDP_QEMU_DIR=${VTDP_QEMU_DIR:-$VTDP_CACHE/qemu/$VTDP_QEMU_VERSION}
	export VTDP_QEMU_DIR
}

# Mirror the files of directory $1 into $2, writing only files whose content
# differs (so make/ninja see unchanged timestamps on unchanged files).  Files
# mirrored by an earlier run that are gone from $1 are removed; anything else
# in $2 (build products) is left alone.  Further arguments are path patterns
# relative to $1 (shell case syntax) to leave out.
vtdp_sync_dir() { # src dst [exclude...]
	local src=$1 dst=$2 rel pat manifest=$2/.vtdp-sync
	shift 2
	mkdir -p "$dst"
	: >"$manifest.new"
	while IFS= read -r -d '' rel; do
		rel=${rel#./}
		for pat in "$@"; do
			# shellcheck disable=SC2254
			case "$rel" in $pat) continue 2 ;; esac
		done
		cmp -s "$src/$rel" "$dst/$rel" || install -D -m 0644 "$src/$rel" "$dst/$rel"
		printf '%s\n' "$rel" >>"$manifest.new"
	done < <(cd "$src" && find . -type f ! -name '.*' -print0)
	if [ -f "$manifest" ]; then
		sort "$manifest.new" | comm -23 <(sort "$manifest") - |
			while IFS= read -r rel; do rm -f "$dst/$rel"; done
	fi
	mv "$manifest.new" "$manifest"
}
