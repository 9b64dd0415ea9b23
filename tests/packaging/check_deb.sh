#!/usr/bin/env bash
# Packaging test: builds the .deb from an up-to-date build directory, checks its metadata and contents, runs lintian
# (fails on errors only), then unpacks it with dpkg -x and runs the *installed* binary: --version, and a headless
# failover smoke test (first provider refuses connections, the second — a tiny local mock — answers).
#   tests/packaging/check_deb.sh <build-dir>        (ctest -L packaging runs it)
set -euo pipefail

build=$(cd "${1:?usage: check_deb.sh <build-dir>}" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# --- 1. Build the package (cpack into a temp dir, so the build's own package output is left alone) ---
step "cpack -G DEB"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/understudy_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || fail "no understudy_*.deb in $work/out"
echo "package: $(basename "$deb")"

# --- 2. Metadata: dependencies, declared and from dpkg-shlibdeps ---
step "dpkg-deb --info"
[ "$(dpkg-deb --field "$deb" Package)" = understudy ] || fail "Package is not 'understudy'"
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
for lib in libqt6sql6-sqlite libqt6svg6 libsecret-1-0 libqt6core6 libqt6network6 libqt6widgets6 libc6; do
  grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib"
done
grep -q gnome-keyring <<<"$(dpkg-deb --field "$deb" Recommends)" || fail "Recommends lacks gnome-keyring"

# --- 3. Contents ---
step "dpkg-deb --contents"
listing=$(dpkg-deb --contents "$deb")
contents=$(awk '{print $6}' <<<"$listing")
for path in ./usr/bin/understudy \
            ./usr/share/applications/understudy.desktop \
            ./usr/share/icons/hicolor/scalable/apps/understudy.svg \
            ./usr/share/icons/hicolor/48x48/apps/understudy.png \
            ./usr/share/icons/hicolor/256x256/apps/understudy.png \
            ./usr/share/doc/understudy/copyright \
            ./usr/share/doc/understudy/changelog.gz; do
  grep -qxF "$path" <<<"$contents" || fail "package lacks $path"
done
grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/understudy$' <<<"$listing" \
  || fail "usr/bin/understudy is not root-owned 0755"

# --- 4. lintian: errors fail the test, warnings are shown ---
if command -v lintian >/dev/null 2>&1; then
  step "lintian"
  # lintian exits non-zero on errors; the E: lines are what is checked.
  lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 || true
  grep -E '^[EW]: ' "$work/lintian.log" || echo "(no findings)"
  ! grep -q '^E: ' "$work/lintian.log" || fail "lintian reported errors"
else
  echo "lintian not installed (scripts/setup installs it): skipped"
fi

# --- 5. Unpack into a temporary root and run the installed binary ---
step "dpkg -x"
root="$work/root"
dpkg -x "$deb" "$root"
bin="$root/usr/bin/understudy"
[ -x "$bin" ] || fail "$bin is not executable after dpkg -x"
grep -q '^Exec=understudy$' "$root/usr/share/applications/understudy.desktop" || fail "desktop Exec is not 'understudy'"

step "--version"
version=$("$bin" --version)
echo "$version"
expected=$(dpkg-deb --field "$deb" Version)
[ "$version" = "understudy $expected" ] || fail "--version says '$version', package is $expected"

step "headless failover smoke test"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" HOME="$work/home"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$HOME"
unset DISPLAY WAYLAND_DISPLAY

# The backup: a mock Anthropic Messages endpoint on a free port.
cat >"$work/mock.py" <<'EOF'
import http.server, json, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"id": "msg_backup", "type": "message", "role": "assistant", "model": "backup-model",
                           "content": [{"type": "text", "text": "answered by the backup"}],
                           "stop_reason": "end_turn", "stop_sequence": None,
                           "usage": {"input_tokens": 3, "output_tokens": 4}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
EOF
python3 "$work/mock.py" >"$work/mock.port" &
pids+=($!)
# A port nothing listens on: bind one, note it, close it.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for _ in $(seq 50); do [ -s "$work/mock.port" ] && break; sleep 0.1; done
mock=$(cat "$work/mock.port")
[ -n "$mock" ] || fail "mock upstream did not start"

config="$work/understudy.json"
cat >"$config" <<EOF
{
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": 8790 },
  "providers": {
    "down":   { "type": "anthropic", "baseUrl": "http://127.0.0.1:$dead", "auth": "none" },
    "backup": { "type": "anthropic", "baseUrl": "http://127.0.0.1:$mock", "auth": "none" }
  },
  "chains": { "main": { "steps": [ { "provider": "down" }, { "provider": "backup" } ] } },
  "activeChain": "main"
}
EOF
"$bin" --check-config "$config" || fail "--check-config rejects the smoke-test config"

"$bin" --headless --port 0 --config "$config" 2>"$work/stderr.log" &
proxy=$!
pids+=("$proxy")
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$work/stderr.log" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$proxy" 2>/dev/null || { cat "$work/stderr.log"; fail "understudy exited before listening"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/stderr.log"; fail "no 'listening on' line within 10 s"; }
echo "listening on port $port"

health=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/healthz") || fail "/healthz failed"
grep -q '"ok"' <<<"$health" || fail "/healthz said $health"

answer=$(curl -fsS --max-time 20 "http://127.0.0.1:$port/v1/messages" \
  -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
  -d '{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}') \
  || { cat "$work/stderr.log"; fail "POST /v1/messages failed"; }
grep -q 'answered by the backup' <<<"$answer" || { cat "$work/stderr.log"; fail "not answered by the backup: $answer"; }
echo "failover: answered by the backup"


kill "$proxy"
wait "$proxy" 2>/dev/null || true
# The event log went to the temporary XDG_DATA_HOME (not the user's), and records the move off the refused step.
events=$(find "$XDG_DATA_HOME" -name events.jsonl | head -n1)
[ -n "$events" ] || fail "no events.jsonl under the temporary XDG_DATA_HOME"
grep '"type":"failover"' "$events" | grep -q '"from":"down/' \
  || { cat "$events"; fail "events.jsonl has no failover event from the refused provider"; }
echo "PASS"
