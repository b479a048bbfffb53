#!/usr/bin/env bash
# setup.sh - installs the Debian packages microhv's build, run and test
# targets need, only those that are missing.  Called by the make targets,
# so that on a fresh Debian machine `make run` and `make test` do it all.
set -euo pipefail

packages=(gcc make binutils gnu-efi nasm bochs bochsbios bochs-term ovmf qemu-system-x86
	mtools dosfstools gdisk gdb python3 clang libclang-rt-14-dev xz-utils zstd)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing missing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
