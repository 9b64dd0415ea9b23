#!/usr/bin/env bash
# Packaging test for the .rpm: builds it with cpack from an up-to-date build directory, checks its metadata (name,
# version, license, requires — rpmbuild's automatic library requires plus what Qt loads at run time) and contents,
# unpacks it with rpm2cpio and runs the unpacked binary's --version. The failover smoke test of the same binary is in
# check_deb.sh; this one makes sure the second Linux package is built from the same install rules and is complete.
#   tests/packaging/check_rpm.sh <build-dir>        (ctest -L packaging runs it)
set -euo pipefail

build=$(cd "${1:?usage: check_rpm.sh <build-dir>}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "cpack -G RPM"
cpack --config "$build/CPackConfig.cmake" -G RPM -B "$work/out" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; fail "cpack failed"; }
rpm=$(ls "$work"/out/understudy-*.rpm 2>/dev/null | head -n1)
[ -n "$rpm" ] || fail "no understudy-*.rpm in $work/out"
echo "package: $(basename "$rpm")"

step "rpm -qp --info / --requires"
[ "$(rpm -qp --queryformat '%{NAME}' "$rpm")" = understudy ] || fail "Name is not 'understudy'"
rpm -qp --info "$rpm" | sed -n '1,12p'
requires=$(rpm -qp --requires "$rpm")
for req in 'libQt6Core.so.6' 'libQt6Network.so.6' 'libQt6Widgets.so.6' 'qt6-qtsvg' 'libsecret'; do
  grep -q "^$req" <<<"$requires" || { echo "$requires"; fail "Requires lacks $req"; }
done

step "rpm -qp --list"
contents=$(rpm -qp --list "$rpm")
for path in /usr/bin/understudy \
            /usr/share/applications/understudy.desktop \
            /usr/share/icons/hicolor/scalable/apps/understudy.svg \
            /usr/share/icons/hicolor/256x256/apps/understudy.png; do
  grep -qxF "$path" <<<"$contents" || fail "package lacks $path"
done
# The package must not claim directories every system owns (they would conflict with the filesystem package).
for dir in /usr /usr/bin /usr/share /usr/share/applications /usr/share/icons; do
  ! grep -qxF "$dir" <<<"$contents" || fail "package owns the system directory $dir"
done

step "rpm2cpio | cpio -id"
root="$work/root"
mkdir -p "$root"
(cd "$root" && rpm2cpio "$rpm" | cpio -id --quiet)
bin="$root/usr/bin/understudy"
[ -x "$bin" ] || fail "$bin is not executable after unpacking"
version=$("$bin" --version)
expected=$(rpm -qp --queryformat '%{VERSION}' "$rpm")
[ "$version" = "understudy $expected" ] || fail "--version says '$version', package is $expected"
echo "$version"
echo "PASS"
