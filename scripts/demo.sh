#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, and boots the
# bundled sample firmware (tests/guests/x86/hello.mb.elf, a multiboot
# kernel) under KVM with its serial port on this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build

kernel=build/tests/guests/x86/hello.mb.elf
cmd=(build/kvmdbg -M pc-lite -m 128M -kernel "$kernel" -append "greeting=kvm"
     -serial stdio -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04)
echo "\$ ${cmd[*]}"
set +e
"${cmd[@]}"
status=$?
set -e
echo "kvmdbg exited with status $status (the guest wrote 0x20 to isa-debug-exit: (0x20<<1)|1 = 65)"
[ "$status" -eq 65 ]
