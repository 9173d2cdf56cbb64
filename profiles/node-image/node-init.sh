#!/bin/sh
# /init of the installed rackforge node (the runtime initramfs inside node.img, booted by
# syslinux from the disk). The node's whole state is the config area at the end of the disk
# (written by installer-init.sh): identity, then the controller credential after the first
# registration. Everything else is the same read-only image on every node.
#
# Agent: register once with the cloud controller, then heartbeat forever.
# The contract it keeps is in docs/node-image.md.

RF_LOG_PREFIX=rackforge-node
. /lib/rackforge/rf-lib.sh

rf_mount_basics
# The lab and the tests wait for this line on the serial console.
rf_log "booted from disk"
rf_log "kernel $(uname -r)"
rf_load_modules

# The config area is on the disk we booted from; look at every disk rather than trust that
# it is vda, and give the block driver a few seconds to probe.
DISK=
i=0
while [ -z "$DISK" ] && [ "$i" -lt 10 ]; do
	for d in /sys/block/vd* /sys/block/sd* /sys/block/nvme*; do
		[ -e "$d" ] || continue
		if rf_area_read "/dev/${d##*/}" /run/config; then
			DISK=/dev/${d##*/}
			break
		fi
	done
	[ -n "$DISK" ] || sleep 1
	i=$((i + 1))
done
if [ -z "$DISK" ]; then
	rf_log "FAILED: no disk has a rackforge config area (was this disk written by the installer?)"
	rf_halt
fi
. /run/config
rf_log "config area of $DISK: system $RF_SYSTEM"
RF_HOSTNAME=${RF_HOSTNAME:-$RF_SYSTEM}
hostname "$RF_HOSTNAME"

# A node without a network keeps trying: the DHCP server may come back.
until rf_dhcp keep; do
	rf_log "no DHCP lease on any NIC with a link; trying again in 10 s"
	sleep 10
done

rf_event rebooted "booted from $DISK, $RF_IFACE $RF_IP"

json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# The register body: what the controller schedules on (CPUs, memory, disks) and what it
# matches the machine by (MACs of every NIC but lo).
register_body() {
	macs=
	for n in /sys/class/net/*; do
		[ "${n##*/}" != lo ] || continue
		mac=$(cat "$n/address")
		[ "$mac" != 00:00:00:00:00:00 ] || continue
		macs="$macs${macs:+,}\"$mac\""
	done
	cpus=$(grep -c '^processor' /proc/cpuinfo)
	memory_mb=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
	disks=
	for d in /sys/block/vd*; do
		[ -e "$d" ] || continue
		disks="$disks${disks:+,}{\"name\":\"${d##*/}\",\"size_bytes\":$(($(cat "$d/size") * 512))}"
	done
	printf '{"system":%s,"hostname":%s,"macs":[%s],"token":%s,"cpus":%s,"memory_mb":%s,"disks":[%s]}' \
		"$(json_str "$RF_SYSTEM")" "$(json_str "$RF_HOSTNAME")" "$macs" "$(json_str "$RF_TOKEN")" "$cpus" "$memory_mb" "$disks"
}

# json_field NAME FILE: a string or number field of a flat JSON object.
json_field() {
	sed -n "s/.*\"$1\" *: *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" "$2" | head -n 1
}

if [ -z "${RF_CREDENTIAL:-}" ]; then
	while :; do
		rm -f /run/register.json
		if timeout 30 wget -q -O /run/register.json --header 'Content-Type: application/json' \
			--post-data "$(register_body)" "$RF_CONTROLLER_URL/hypervisors" 2>/dev/null; then
			RF_CREDENTIAL=$(json_field credential /run/register.json)
			[ -n "$RF_CREDENTIAL" ] && break
			rf_log "registration answer has no credential: $(head -c 200 /run/register.json)"
		else
			rf_log "registration with $RF_CONTROLLER_URL failed; trying again in 10 s"
		fi
		sleep 10
	done
	RF_NAME=$(json_field name /run/register.json)
	RF_HEARTBEAT_SECONDS=$(json_field heartbeat_seconds /run/register.json)
	# The token was for one registration; the credential is what survives a reboot.
	{
		cat /run/config
		echo "RF_CREDENTIAL=$(rf_quote "$RF_CREDENTIAL")"
		echo "RF_NAME=$(rf_quote "${RF_NAME:-$RF_SYSTEM}")"
		echo "RF_HEARTBEAT_SECONDS=$(rf_quote "${RF_HEARTBEAT_SECONDS:-}")"
	} >/run/config.new
	if rf_area_write "$DISK" /run/config.new; then
		mv /run/config.new /run/config
	else
		rf_log "could not store the credential in the config area of $DISK; a reboot will register again"
	fi
fi
RF_NAME=${RF_NAME:-$RF_SYSTEM}
case ${RF_HEARTBEAT_SECONDS:-} in
'' | *[!0-9]* | 0) RF_HEARTBEAT_SECONDS=5 ;;
esac
rf_log "registered as $RF_NAME"

failing=
while :; do
	if timeout 30 wget -q -O /dev/null --header "Authorization: Bearer $RF_CREDENTIAL" \
		--header 'Content-Type: application/json' --post-data '{}' \
		"$RF_CONTROLLER_URL/hypervisors/$RF_NAME/heartbeat" 2>/dev/null; then
		[ -z "$failing" ] || rf_log "heartbeat ok again"
		failing=
	else
		rf_log "heartbeat to $RF_CONTROLLER_URL/hypervisors/$RF_NAME/heartbeat failed"
		failing=yes
	fi
	sleep "$RF_HEARTBEAT_SECONDS"
done
