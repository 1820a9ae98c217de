# SPDX-License-Identifier: GPL-2.0-or-later
#
# vtdp-tap.sh - TAP output for the guest's shell tools (vtdp-leakcheck,
# vtdp-hotplug), sourced by them; the C tools have vtdp-tap.h.
#   check DESCRIPTION COMMAND...  run COMMAND, one "ok"/"not ok" line
#   tap ok|fail DESCRIPTION       the line without running anything
#   tap_done                      the plan line; status 0 if all passed
n=0 fails=0
tap() { # ok|fail description
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}
check() { # description command...
	d=$1
	shift
	if "$@"; then tap ok "$d"; else tap fail "$d"; fi
}
tap_done() {
	echo "1..$n"
	[ "$fails" = 0 ]
}
