#!/bin/sh
# Build the compiled core (inspector/_native/_core.pyx) instrumented for coverage-guided fuzzing,
# next to the normal build, never in place of it:
#
#   scripts/build_fuzz_native.sh [OUTDIR]        # default OUTDIR: build/fuzz-native
#
# OUTDIR/_core.<ext suffix>   the core with Cython's bounds checks on (as the normal build) and
#                              compiled by clang with -fsanitize=address,undefined (every UB
#                              report fatal) and -fsanitize=fuzzer-no-link (libFuzzer edge
#                              coverage of the C code, so atheris is guided by it)
# OUTDIR/preload.so          ASan + UBSan runtime merged with libFuzzer (as atheris' own
#                              setup_utils/merge_libfuzzer_sanitizer.sh does): it must be
#                              LD_PRELOADed into python so the sanitizers and one libFuzzer see
#                              the whole process; atheris then says "Using preloaded libfuzzer"
#
# scripts/fuzz_parsers.py native --native-build OUTDIR runs the native target on this build
# (it sets LD_PRELOAD and ASAN_OPTIONS for its child and imports OUTDIR/_core*.so as
# inspector._native._core). Needs clang (Debian: apt-get install clang-14) and Cython in the
# venv. Without clang, CC=gcc gives the bounds-checked build with ASan/UBSan but no native
# coverage (gcc has no libFuzzer coverage hooks): see benchmarks/RESULTS-fuzz.md.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/fuzz-native}
PY=${PYTHON:-$ROOT/.venv/bin/python}
CC=${CC:-$(command -v clang-14 || command -v clang || true)}
[ -n "$CC" ] || { echo "build_fuzz_native: clang not found (apt-get install clang-14)" >&2; exit 1; }
CXX=${CXX:-$(echo "$CC" | sed 's/clang/clang++/')}
mkdir -p "$OUT"

INC=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
SUFFIX=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
case "$CC" in *clang*) SAN="$SAN -fsanitize=fuzzer-no-link" ;; esac

# the same directives as setup.py: bounds checks, wraparound, initialized checks on
"$PY" -m cython -3 --directive boundscheck=True,wraparound=True,initializedcheck=True \
    -o "$OUT/_core.c" "$ROOT/inspector/_native/_core.pyx"
# shellcheck disable=SC2086  # SAN is a list of flags
"$CC" -shared -fPIC -O1 -g -fno-omit-frame-pointer -ffp-contract=off $SAN \
    -I"$INC" "$OUT/_core.c" -o "$OUT/_core$SUFFIX"

case "$CC" in
*clang*)
    RT=$("$CC" -print-runtime-dir 2>/dev/null || true)
    [ -f "$RT/libclang_rt.asan-x86_64.a" ] ||
        RT=$(dirname "$("$CC" -print-file-name=libclang_rt.asan-x86_64.a)")
    [ -f "$RT/libclang_rt.asan-x86_64.a" ] ||
        RT=$(dirname "$(find /usr/lib/llvm-*/lib/clang -name libclang_rt.asan-x86_64.a | head -1)")
    TMP=$(mktemp -d)
    cp "$RT/libclang_rt.asan-x86_64.a" "$TMP/asan.a"
    # a .preinit_array is not allowed in a shared object (the member name depends on the LLVM)
    ar d "$TMP/asan.a" asan_preinit.o asan_preinit.cpp.o 2>/dev/null || true
    "$CXX" -Wl,--whole-archive "$RT/libclang_rt.fuzzer_no_main-x86_64.a" "$TMP/asan.a" \
        -Wl,--no-whole-archive -lpthread -ldl -shared -o "$OUT/preload.so"
    rm -rf "$TMP"
    ;;
*)
    cp "$("$CC" -print-file-name=libasan.so)" "$OUT/preload.so"
    ;;
esac
echo "$OUT/_core$SUFFIX"
echo "$OUT/preload.so"
