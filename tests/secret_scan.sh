#!/bin/sh
# The suite-wide secret scan (issue 10): no fake secret a test uses may appear in any log, event file or output the
# suite produced.
#
#   secret_scan.sh LIST PATH...      every file under each PATH (CTest's own log, the tests' data folders, the
#                                    outputs they kept); exit 1 naming each file and line that holds a secret
#   secret_scan.sh --self-test LIST  plants a secret from LIST in a scratch folder and checks the scan finds it,
#                                    names the file, does not print the secret, and passes a clean folder
#
# LIST (tests/support/test-secrets.txt) holds one fixed string a line; '#' lines are comments. What a finding
# prints names the secret by its line in LIST, never the secret itself, so the scan's own output stays clean.
set -u

secrets() { grep -v -e '^#' -e '^[[:space:]]*$' "$1"; }

scan() {
  list=$1
  shift
  found=0
  number=0
  for path in "$@"; do
    [ -e "$path" ] || echo "secret_scan: $path does not exist (nothing written there this run); skipped"
  done
  # Line numbers in LIST, counting comments, so that "line N of LIST" is what an editor shows.
  lines=$(grep -n -v -e '^#' -e '^[[:space:]]*$' "$list" | cut -d: -f1)
  for entry in $lines; do
    secret=$(sed -n "${entry}p" "$list")
    for path in "$@"; do
      [ -e "$path" ] || continue
      for file in $(grep -r -l -F -e "$secret" "$path" 2>/dev/null); do
        at=$(grep -n -F -e "$secret" "$file" | cut -d: -f1 | head -5 | tr '\n' ' ')
        echo "secret_scan: $file (line ${at% }) holds the fake secret on line $entry of $list"
        found=1
      done
    done
    number=$((number + 1))
  done
  if [ "$found" -ne 0 ]; then
    echo "secret_scan: a fake secret leaked into the output above; find what printed it (a log line, an event, an error message) and redact it there"
    return 1
  fi
  echo "secret_scan: none of the $number fake secrets of $list appears under: $*"
  return 0
}

self_test() {
  list=$1
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/clean" "$scratch/leaky/kept"
  echo '{"type":"request","status":200,"servedBy":"primary/mock-model"}' > "$scratch/clean/events.jsonl"
  cp "$scratch/clean/events.jsonl" "$scratch/leaky/events.jsonl"
  # The planted secret is the list's last entry, read here, so it is in neither this script nor its output.
  planted=$(secrets "$list" | tail -n 1)
  printf 'PASS   : first line\nheader x-api-key: %s\n' "$planted" > "$scratch/leaky/kept/stderr-1.log"

  output=$(scan "$list" "$scratch/leaky")
  status=$?
  case "$output" in *"$planted"*) echo "self-test FAILED: the scan printed the secret it found"; return 1 ;; esac
  if [ "$status" -ne 1 ]; then
    echo "self-test FAILED: a planted secret was not found (exit $status)"
    return 1
  fi
  case "$output" in
    *"$scratch/leaky/kept/stderr-1.log (line 2)"*) ;;
    *) echo "self-test FAILED: the finding does not name the file and line: $output"; return 1 ;;
  esac
  case "$output" in *"events.jsonl"*) echo "self-test FAILED: a clean file was named: $output"; return 1 ;; esac
  if ! scan "$list" "$scratch/clean" > /dev/null; then
    echo "self-test FAILED: a clean folder did not pass"
    return 1
  fi
  echo "self-test passed: a planted secret is found and its file named, a clean folder passes"
  return 0
}

if [ "${1:-}" = "--self-test" ] && [ $# -eq 2 ]; then
  self_test "$2"
  exit $?
fi
if [ $# -lt 2 ]; then
  echo "usage: secret_scan.sh LIST PATH... | secret_scan.sh --self-test LIST" >&2
  exit 2
fi
scan "$@"
