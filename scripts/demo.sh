#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, boots the bundled
# sample firmware under KVM, then shows a real gdb session against it
# through kvmdbg's gdb stub (-s -S, as with qemu-system-x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build

guests=build/tests/guests/x86

echo "== 1. boot the multiboot sample firmware under KVM"
cmd=(build/kvmdbg -M pc-lite -m 128M -kernel "$guests/hello.mb.elf" -append "greeting=kvm"
     -serial stdio -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04)
echo "\$ ${cmd[*]}"
set +e
"${cmd[@]}"
status=$?
set -e
echo "kvmdbg exited with status $status (the guest wrote 0x20 to isa-debug-exit: (0x20<<1)|1 = 65)"
[ "$status" -eq 65 ]

echo
echo "== 2. the same workflow as qemu-system-x86_64 -s -S, with real gdb"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
emu=(build/kvmdbg -M pc-lite -m 128M -kernel "$guests/debug_target.elf64" -serial stdio
     -S -gdb "tcp::$port")
echo "\$ ${emu[*]} &"
"${emu[@]}" &
emu_pid=$!
trap 'kill $emu_pid 2>/dev/null || true' EXIT
sleep 0.5
gdb_cmds=(
  "file $guests/debug_target.elf64"
  "target remote 127.0.0.1:$port"
  "set breakpoint always-inserted on"
  "info registers rip rsp"
  "x/3i \$pc"
  "hbreak step_0"
  "continue"
  "stepi 3"
  "x/i \$pc"
  "delete"
  "hbreak tick"
  "continue"
  "continue"
  "bt"
  "print tick_count"
  "monitor info breakpoints"
  "delete"
  "continue"
)
args=()
for c in "${gdb_cmds[@]}"; do args+=(-ex "$c"); done
echo "\$ gdb -batch -nx $(printf -- "-ex '%s' " "${gdb_cmds[@]}")"
gdb -batch -nx -ex "set confirm off" "${args[@]}"
set +e
wait $emu_pid
status=$?
set -e
trap - EXIT
echo "kvmdbg exited with status $status (debug_target wrote 0x22 to isa-debug-exit: 69)"
[ "$status" -eq 69 ]
