# Shared by installer-init.sh and node-init.sh, both PID 1 under busybox ash; sourced from
# /lib/rackforge/rf-lib.sh in both initramfs images, never run on its own. One copy so the
# installer and the installed node can never disagree about the config area layout, the
# event URL shape or how a NIC is brought up.
#
# The caller sets RF_LOG_PREFIX (rackforge-installer or rackforge-node) before sourcing.

export PATH=/sbin:/bin:/usr/sbin:/usr/bin

# The config area: the last 1 MiB of the disk, outside the image, so that writing a new
# image never destroys the node's identity and the image itself stays identical on every node.
# Its first line is this marker; then KEY='value' lines; then NUL bytes up to 1 MiB.
RF_AREA_MAGIC='# rackforge-node-config v1'
RF_AREA_SECTORS=2048

rf_log() {
	echo "$RF_LOG_PREFIX: $*"
}

# A failed boot must stay on screen (and on the serial console) instead of panicking the
# kernel, which is what happens when PID 1 exits.
rf_halt() {
	rf_log "halted; the machine stays up so the failure above stays visible"
	while :; do sleep 3600; done
}

rf_mount_basics() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	# The image is downloaded here before it is verified: RAM, never the target disk.
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mkdir -p /run
	mount -t tmpfs -o mode=755 tmpfs /run
}

# The Debian kernel has the NIC and disk drivers as modules; the build wrote their names in
# dependency order (it read each module's depends= field), so plain insmod is enough.
rf_load_modules() {
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "/lib/modules/$m.ko" 2>/tmp/insmod.err || rf_log "module $m did not load: $(cat /tmp/insmod.err)"
	done </lib/modules/load-order
}

# Percent-encodes everything but RFC 3986 unreserved characters (detail= query values).
rf_urlencode() {
	_s=$1
	_out=
	while [ -n "$_s" ]; do
		_c=${_s%"${_s#?}"}
		_s=${_s#?}
		case $_c in
		[A-Za-z0-9._~-]) _out=$_out$_c ;;
		*) _out=$_out$(printf '%%%02X' "'$_c") ;;
		esac
	done
	printf '%s' "$_out"
}

# rf_fetch URL FILE: a GET into FILE, three tries (a provisioner restarting is not a failure).
# Every wget runs under the timeout applet: busybox 1.35's own wget -T crashes on a refused
# connection.
rf_fetch() {
	for _try in 1 2 3; do
		rm -f "$2"
		if timeout 900 wget -q -O "$2" "$1" 2>/dev/null; then return 0; fi
		sleep 2
	done
	return 1
}

# rf_event STAGE [DETAIL]: GET $RF_EVENT_URL/stage/STAGE?detail=...; a report that fails is
# logged and otherwise ignored, since the provisioner's event log must never stop an install.
rf_event() {
	[ -n "${RF_EVENT_URL:-}" ] || return 0
	_url="$RF_EVENT_URL/stage/$1"
	if [ -n "${2:-}" ]; then _url="$_url?detail=$(rf_urlencode "$2")"; fi
	timeout 15 wget -q -O /dev/null "$_url" 2>/dev/null || rf_log "could not report stage $1"
}

# rf_dhcp [keep]: a lease on the first NIC that has a link. With "keep", udhcpc stays in the
# background after the lease (it forks once bound) so a long-running node renews it; without,
# it exits once bound. Sets RF_IFACE and RF_IP. Returns 1 when no NIC got a lease.
rf_dhcp() {
	_keep=${1:-}
	for _n in /sys/class/net/*; do
		_n=${_n##*/}
		[ "$_n" = lo ] || ip link set "$_n" up 2>/dev/null
	done
	for _round in 1 2 3; do
		# e1000 reports carrier a second or two after the link is set up.
		_i=0
		while [ "$_i" -lt 15 ]; do
			for _n in /sys/class/net/*; do
				[ "${_n##*/}" != lo ] && [ "$(cat "$_n/carrier" 2>/dev/null)" = 1 ] && break 2
			done
			sleep 1
			_i=$((_i + 1))
		done
		for _n in /sys/class/net/*; do
			_n=${_n##*/}
			[ "$_n" != lo ] || continue
			[ "$(cat "/sys/class/net/$_n/carrier" 2>/dev/null)" = 1 ] || continue
			rf_log "DHCP on $_n ($(cat "/sys/class/net/$_n/address"))"
			rm -f /run/udhcpc.lease
			if [ -n "$_keep" ]; then
				udhcpc -i "$_n" -s /etc/udhcpc.script -t 5 -T 2 -n -p /run/udhcpc.pid ${RF_HOSTNAME:+-x hostname:$RF_HOSTNAME} >/run/udhcpc.log 2>&1
			else
				udhcpc -i "$_n" -s /etc/udhcpc.script -t 5 -T 2 -n -q >/run/udhcpc.log 2>&1
			fi
			if [ -s /run/udhcpc.lease ]; then
				RF_IFACE=$_n
				RF_IP=$(cat /run/udhcpc.lease)
				rf_log "lease $RF_IP on $_n"
				return 0
			fi
		done
	done
	return 1
}

# rf_quote VALUE: VALUE in single quotes, safe to source (a ' becomes '\'').
rf_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# rf_area_start DISK: the first 512-byte sector of DISK's config area.
rf_area_start() {
	_sectors=$(cat "/sys/block/${1##*/}/size" 2>/dev/null) || return 1
	[ "${_sectors:-0}" -gt "$RF_AREA_SECTORS" ] || return 1
	echo $((_sectors - RF_AREA_SECTORS))
}

# rf_area_read DISK FILE: the area's text (NULs dropped) into FILE; fails unless it starts with
# the marker line and is valid shell, so a disk that never saw the installer is not sourced.
rf_area_read() {
	_start=$(rf_area_start "$1") || return 1
	dd if="$1" bs=512 skip="$_start" count="$RF_AREA_SECTORS" 2>/dev/null | tr -d '\000' >"$2"
	[ "$(head -n 1 "$2")" = "$RF_AREA_MAGIC" ] || return 1
	(. "$2") >/dev/null 2>&1
}

# rf_area_write DISK FILE: FILE (the marker line and KEY='value' lines), NUL-padded to 1 MiB,
# over the last 1 MiB of DISK.
rf_area_write() {
	_start=$(rf_area_start "$1") || return 1
	[ "$(wc -c <"$2")" -lt $((RF_AREA_SECTORS * 512)) ] || return 1
	dd if=/dev/zero of=/tmp/area.bin bs=512 count="$RF_AREA_SECTORS" 2>/dev/null &&
		dd if="$2" of=/tmp/area.bin conv=notrunc 2>/dev/null &&
		dd if=/tmp/area.bin of="$1" bs=512 seek="$_start" count="$RF_AREA_SECTORS" conv=fsync 2>/dev/null
	_rc=$?
	rm -f /tmp/area.bin
	return $_rc
}
