#!/usr/bin/env bash
# Let this x86-64 machine run binaries of another architecture (default arm64) through QEMU user-mode
# emulation, for `docker build --platform linux/arm64` and `debootstrap --arch arm64`.
#
#   scripts/qemu-binfmt.sh [ARCH]       ARCH: arm64 (default) or any Debian architecture qemu-user-static covers
#
# Idempotent. Mounts binfmt_misc when it is not mounted, installs Debian's qemu-user-static and
# binfmt-support when they are missing, registers the handler, and checks that it carries the F
# ("fix binary") flag: with F the kernel opens the interpreter once, at registration, so it also works
# inside containers and chroots that do not have /usr/libexec/qemu-binfmt/ themselves. Needs root, and a
# kernel that allows binfmt_misc (a container without CAP_SYS_ADMIN or a kernel built without
# CONFIG_BINFMT_MISC cannot: this script then says which step failed).
set -euo pipefail

ARCH=${1:-arm64}
case "$ARCH" in
arm64) qemu=aarch64 ;;
armhf) qemu=arm ;;
ppc64el) qemu=ppc64le ;;
*) qemu=$ARCH ;;
esac
BINFMT=/proc/sys/fs/binfmt_misc
say() { echo "qemu-binfmt: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (mount binfmt_misc, apt-get install, register a handler)"
if [ ! -e "$BINFMT/register" ]; then
  grep -qw binfmt_misc /proc/filesystems || modprobe binfmt_misc 2>/dev/null ||
    die "this kernel has no binfmt_misc (CONFIG_BINFMT_MISC): foreign binaries cannot run here"
  mount -t binfmt_misc binfmt_misc "$BINFMT" ||
    die "cannot mount binfmt_misc on $BINFMT (a container needs CAP_SYS_ADMIN for this)"
fi
if [ ! -x "/usr/bin/qemu-$qemu-static" ] || ! command -v update-binfmts >/dev/null; then
  say "apt-get install qemu-user-static binfmt-support"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
fi
if [ ! -e "$BINFMT/qemu-$qemu" ]; then
  # The package registers its handlers from its postinst; on a machine without systemd or where
  # binfmt_misc was mounted only now, import them by hand.
  update-binfmts --import "qemu-$qemu" >/dev/null 2>&1 || update-binfmts --enable "qemu-$qemu" ||
    die "update-binfmts could not register qemu-$qemu"
fi
entry=$BINFMT/qemu-$qemu
[ -e "$entry" ] || die "no $entry after registration"
grep -qx enabled "$entry" || die "$entry is registered but disabled (echo 1 > $entry)"
flags=$(sed -n 's/^flags: //p' "$entry")
[[ "$flags" == *F* ]] || die "$entry has flags '$flags' without F: RUN steps in foreign-arch containers would not find the interpreter"
say "qemu-$qemu registered (flags $flags, $(sed -n 's/^interpreter //p' "$entry"))"
