#!/usr/bin/env bash
# Runs a command on a private Xvfb display with a tray host (trayer), as ../shared/notes/toolchain.md describes:
# under Xvfb alone QSystemTrayIcon::isSystemTrayAvailable() is false. Exit 77 (skipped) without Xvfb or trayer.
set -euo pipefail
for tool in Xvfb trayer xwininfo; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (scripts/setup installs it)"; exit 77; }
done

work=$(mktemp -d)
cleanup() {
  [ -n "${tray_pid:-}" ] && kill "$tray_pid" 2>/dev/null || true
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

Xvfb -displayfd 3 -screen 0 2560x1600x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$work/display")"

# No session bus: Qt then draws notifications as tray balloons, and nothing autostarts a keyring prompt.
unset DBUS_SESSION_BUS_ADDRESS
trayer --edge top --align right --widthtype request --height 32 --SetDockType true --transparent false \
  >"$work/trayer.log" 2>&1 &
tray_pid=$!
for _ in $(seq 200); do xwininfo -root -tree 2>/dev/null | grep -q panel && break; sleep 0.1; done  # a loaded CI box is slow

export QT_QPA_PLATFORM=xcb
"$@"
