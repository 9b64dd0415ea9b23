#!/bin/sh
# Runs a test program against a Secret Service of its own: a private D-Bus session (dbus-run-session) with a
# throw-away GNOME Keyring, unlocked, in a temporary home, so the user's own keyring is never touched and no unlock
# dialog can appear. Exits 77 (CTest: skipped) when the tools are not installed.
set -u
for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIPPED: $tool is not installed (Debian: apt install dbus gnome-keyring)"
    exit 77
  fi
done
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -m 700 "$home/run"
export HOME="$home/home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
export XDG_RUNTIME_DIR="$home/run"
# Without these unset, libsecret may find the user's session, or auto-start one on the display.
unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
# The keyring daemon runs in the foreground of the session so that it can be stopped by its process id when the
# test ends; the test starts once the daemon owns the Secret Service name (else D-Bus would start a second one).
dbus-run-session -- sh -c '
  printf throwaway | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null &
  keyring=$!
  tries=0
  until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then echo "gnome-keyring-daemon did not start"; kill "$keyring"; exit 1; fi
    sleep 0.1
  done
  "$@"
  status=$?
  kill "$keyring"
  wait "$keyring" 2>/dev/null
  exit "$status"' keychain-session "$@"
