#!/usr/bin/env bash
# `npm run test:asan`: the whole mocha suite against an addon built with
# AddressSanitizer + UndefinedBehaviorSanitizer, with a LeakSanitizer check
# of our addon in the same run. Exits non-zero on a test failure, on any
# ASan/UBSan report, and on any leak whose stack passes through tigerio.node.
#
# How:
# - The tree is copied to a temporary directory (node_modules symlinked) and
#   built there, so build/Release, which the other suites use, is untouched.
#   node-gyp-build loads the addon from the package root, so the copied
#   dist/ loads the sanitized build.
# - node is not built with ASan: the runtime is LD_PRELOADed
#   (g++ -print-file-name=libasan.so); UBSan is linked statically into the
#   addon (-static-libubsan) with -fno-sanitize-recover, so any undefined
#   behaviour aborts. Child processes the tests spawn (fixtures, the server,
#   workers' threads) inherit the preload and the same addon.
# - ASAN_OPTIONS: abort_on_error=1 so an ASan or UBSan report kills the
#   process with SIGABRT (a failed test, and a log file we scan);
#   exitcode=0 so that the leak check at each process's exit does not change
#   the exit status (the tests check their children's statuses) — leaks are
#   judged from the logs instead. node and V8 "leak" plenty at exit by
#   design (no teardown of process-lifetime allocations): only leak records
#   with a tigerio.node frame in their stack count, and those are ours
#   (node finalizes N-API objects and runs cleanup hooks at environment
#   teardown, so a live IO or instance data is not a false leak).
# - TIGERIO_ASAN_MOCHA_ARGS (or arguments to this script) go to mocha, e.g.
#   `npm run test:asan -- --grep reliability`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

libasan=$(g++ -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "asan: libasan.so not found (g++ -print-file-name=libasan.so gave '$libasan'); install the gcc sanitizer runtime" >&2
  exit 2
fi

work=$(mktemp -d /tmp/tigerio-asan.XXXXXX)
logs="$work/logs"
mkdir -p "$logs"
cleanup() {
  if [ "${TIGERIO_ASAN_KEEP:-0}" = 1 ]; then echo "asan: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "asan: copying the tree to $work/tree"
mkdir -p "$work/tree"
# The sources as they are in this working tree (tracked and new files),
# without build outputs, caches or dependencies.
tar -C "$root" --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./prebuilds \
  --exclude=./.wine-cache --exclude=./.git -cf - . | tar -C "$work/tree" -xf -
ln -s "$root/node_modules" "$work/tree/node_modules"
cd "$work/tree"

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
echo "asan: building the addon with $sanitize"
CFLAGS="$sanitize" CXXFLAGS="$sanitize" LDFLAGS="-fsanitize=address,undefined -static-libubsan" \
  npx node-gyp rebuild >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
if [ "$(nm -D build/Release/tigerio.node | grep -c __asan_report)" -eq 0 ]; then
  echo "asan: the built addon is not instrumented" >&2
  exit 1
fi
echo "asan: compiling the TypeScript"
npx tsc -p tsconfig.json

# Tools the tests run that are not node get no sanitizer runtime (curl
# hangs with libasan preloaded, headless Chromium aborts): shims first on
# PATH drop LD_PRELOAD.
mkdir -p "$work/shims"
for tool in curl wrk chromium-headless-shell chromium; do
  real=$(command -v "$tool" || true)
  [ -n "$real" ] || continue
  printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$real" >"$work/shims/$tool"
  chmod +x "$work/shims/$tool"
done
export PATH="$work/shims:$PATH"
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:exitcode=0:allocator_may_return_null=1:log_path=$logs/asan:log_exe_name=1"
export LSAN_OPTIONS="report_objects=0:max_leaks=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$logs/ubsan"
# The 1,000-connection tests need more fds than a default soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

status=0
# The package tests (test/package/) are left out: they pack and npm-install
# the package and run npm, tsc and a compiler, none of which is the addon
# under the sanitizers; the plain `npm test` runs them.
# A hang guard for the whole run; mocha's own timeouts catch a single test,
# the watchdog (test/watchdog/main.ts) a test blocked in native code.
timeout --kill-after=10 1200 node dist/test/watchdog/main.js --timeout 60000 \
  --ignore 'dist/test/package/**' ${TIGERIO_ASAN_MOCHA_ARGS:-} "$@" || status=$?
unset LD_PRELOAD
echo "asan: mocha exited with status $status"

# Every sanitizer report is a file in $logs (one per process).
errors=0
leaks=0
shopt -s nullglob
for file in "$logs"/*; do
  if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: UndefinedBehaviorSanitizer" "$file"; then
    echo "asan: sanitizer error in $(basename "$file"):"
    sed -n '1,60p' "$file"
    errors=$((errors + 1))
  fi
  # Leak records are blocks starting "Direct leak" / "Indirect leak" and
  # ending at a blank line. One is ours when, walking its stack from the
  # allocation outwards, a frame of our addon (tigerio.node, native/,
  # node-addon-api/) comes before any V8 frame: memory our code allocated,
  # directly or through N-API (a napi_ref, a wrap). V8 objects our calls
  # create (napi_define_class's function templates) live as long as the
  # isolate, which node does not free at exit: not ours.
  ours=$(awk '
    function judge() {
      if (inblock && verdict == "ours") { n++; printf "%s\n", block > "/dev/stderr" }
      inblock = 0
    }
    /^(Direct|Indirect) leak/ { judge(); block = $0 "\n"; inblock = 1; verdict = ""; next }
    inblock && /^$/ { judge(); next }
    inblock {
      block = block $0 "\n"
      if (verdict == "" && $1 ~ /^#[0-9]+$/ && $1 != "#0") {
        if ($0 ~ /tigerio\.node|[ .\/]native\/|node-addon-api\//) verdict = "ours"
        else if ($0 ~ / in v8::/) verdict = "v8"
      }
    }
    END { judge(); print n + 0 }
  ' "$file" 2>>"$work/our-leaks.txt")
  leaks=$((leaks + ours))
done
if [ "$leaks" -gt 0 ]; then
  echo "asan: $leaks leak(s) with tigerio.node frames:"
  head -120 "$work/our-leaks.txt"
fi
reports=$(ls "$logs" | wc -l)
echo "asan: $reports report file(s) (leak reports of node/V8 at exit included), $errors with sanitizer errors, $leaks leak(s) in tigerio.node"
if [ "$status" -ne 0 ] || [ "$errors" -gt 0 ] || [ "$leaks" -gt 0 ]; then
  exit 1
fi
echo "asan: clean"
