#!/bin/sh
# /init of the rackforge node INSTALLER (build/node/initrd.img), netbooted by pxelinux with
# `url=<autoinstall URL>` on the kernel command line. It writes the node disk image to the
# disk, then the node's identity into the config area at the end of the disk, switches
# netboot off and reboots into the disk. Image-based on purpose (like MAAS/curtin): every
# node runs the same verified bytes, and the only per-node state is the config area.
#
# A failure is reported as stage `failed` with the cause, printed, and the machine stays up
# with its disk untouched: an operator (or a test) reads the cause on the console.
# The contract it keeps is in docs/node-image.md.

RF_LOG_PREFIX=rackforge-installer
. /lib/rackforge/rf-lib.sh

# fail CAUSE: report, print, never touch the disk, stay up.
fail() {
	rf_log "FAILED: $1"
	rf_event failed "$1"
	rf_halt
}

rf_mount_basics
rf_log "starting (kernel $(uname -r))"
rf_load_modules

if ! rf_dhcp; then
	# Without a lease there is nowhere to report to: the console is all there is.
	rf_log "FAILED: no DHCP lease on any NIC with a link"
	rf_halt
fi

# pxelinux passes url= among the debian-installer style arguments; only url= matters here.
URL=
for arg in $(cat /proc/cmdline); do
	case $arg in
	url=*) URL=${arg#url=} ;;
	esac
done
if [ -z "$URL" ]; then
	rf_log "FAILED: autoinstall-failed: no url= on the kernel command line"
	rf_halt
fi

rf_log "fetching autoinstall $URL"
if ! rf_fetch "$URL" /tmp/autoinstall; then
	rf_log "FAILED: autoinstall-failed: could not fetch $URL"
	rf_halt
fi
# Sourced in a subshell first: a syntax error would end PID 1 and panic the kernel.
if ! (. /tmp/autoinstall) >/dev/null 2>&1; then
	rf_log "FAILED: autoinstall-failed: $URL is not a sourceable KEY='value' file"
	rf_halt
fi
. /tmp/autoinstall

rf_event installer-started "$RF_IFACE $RF_IP kernel $(uname -r)"

for var in RF_SYSTEM RF_TOKEN RF_IMAGE_URL RF_IMAGE_SHA256_URL RF_EVENT_URL RF_NOPXE_URL RF_CONTROLLER_URL RF_DISK; do
	eval "val=\${$var:-}"
	[ -n "$val" ] || fail "autoinstall-failed: $var is missing"
done
RF_HOSTNAME=${RF_HOSTNAME:-$RF_SYSTEM}
hostname "$RF_HOSTNAME"

# virtio_blk probes while insmod runs, but give a slower controller a few seconds.
i=0
while [ ! -b "$RF_DISK" ] && [ "$i" -lt 10 ]; do
	sleep 1
	i=$((i + 1))
done
[ -b "$RF_DISK" ] || fail "no-disk: $RF_DISK"

rf_log "fetching $RF_IMAGE_SHA256_URL"
rf_fetch "$RF_IMAGE_SHA256_URL" /tmp/node.img.sha256 || fail "download-failed: $RF_IMAGE_SHA256_URL"
expected=$(head -n 1 /tmp/node.img.sha256 | cut -d ' ' -f 1 | tr 'A-F' 'a-f')
case $expected in
*[!0-9a-f]* | '') fail "download-failed: $RF_IMAGE_SHA256_URL (not a sha256sum line)" ;;
esac
[ "${#expected}" -eq 64 ] || fail "download-failed: $RF_IMAGE_SHA256_URL (not a sha256sum line)"

rf_log "fetching $RF_IMAGE_URL"
rf_fetch "$RF_IMAGE_URL" /tmp/node.img || fail "download-failed: $RF_IMAGE_URL"
got=$(sha256sum /tmp/node.img | cut -d ' ' -f 1)
[ "$got" = "$expected" ] || fail "checksum-mismatch: expected $expected got $got"

image_bytes=$(wc -c </tmp/node.img)
disk_bytes=$(($(cat "/sys/block/${RF_DISK##*/}/size") * 512))
area_bytes=$((RF_AREA_SECTORS * 512))
if [ $((image_bytes + area_bytes)) -gt "$disk_bytes" ]; then
	fail "disk-too-small: $RF_DISK has $disk_bytes bytes, the image needs $image_bytes plus $area_bytes for the config area"
fi

rf_log "writing $image_bytes bytes (sha256 $got) to $RF_DISK"
dd if=/tmp/node.img of="$RF_DISK" bs=1M conv=fsync 2>/tmp/dd.err || fail "write-failed: $RF_DISK: $(tail -n 1 /tmp/dd.err)"
rm -f /tmp/node.img

# Only what the installed node needs: who it is and where to report and register.
{
	echo "$RF_AREA_MAGIC"
	for var in RF_SYSTEM RF_HOSTNAME RF_TOKEN RF_CONTROLLER_URL RF_EVENT_URL; do
		eval "val=\$$var"
		echo "$var=$(rf_quote "$val")"
	done
} >/tmp/config
rf_area_write "$RF_DISK" /tmp/config || fail "write-failed: $RF_DISK (config area)"
sync

rf_event image-written "$image_bytes bytes sha256 $got to $RF_DISK"

# Netboot must be off before the reboot, or the machine would install itself again forever.
i=0
until rf_fetch "$RF_NOPXE_URL" /tmp/nopxe.out; do
	i=$((i + 1))
	[ "$i" -lt 5 ] || fail "nopxe-failed: $RF_NOPXE_URL"
	sleep 3
done

rf_log "installed; rebooting into $RF_DISK"
sync
reboot -f
rf_halt
