#!/usr/bin/env bash
# Compiles kernels/src/main/c/*.c (CPU kernels the Vector API cannot express: AMX tiles, AVX512-BF16 dot products) into
# target/classes/dino4j/cpu/linux-x86_64/libdino4j_cpu.so, loaded at run time through the FFM API.
# Without gcc (or on another architecture) the build goes on without it: the Vector-API kernels are used.
# Called by Maven (process-resources); runs only when a source changed. CC=/path/to/gcc overrides the search.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/src/main/c"
out="$here/target/classes/dino4j/cpu/linux-x86_64"
lib="$out/libdino4j_cpu.so"
cc="${CC:-$(command -v gcc || true)}"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "[dino4j] not Linux x86-64: building WITHOUT the native CPU kernels (Vector-API kernels only)"; rm -rf "$out"; exit 0
fi
if [ -z "$cc" ]; then
  echo "[dino4j] gcc not found: building WITHOUT the native CPU kernels (bf16 GEMM disabled in this build)"; rm -rf "$out"; exit 0
fi
shopt -s nullglob; cs=("$src"/*.c); shopt -u nullglob
[ ${#cs[@]} = 0 ] && exit 0
if [ -f "$lib" ]; then
  stale=0; for dep in "${cs[@]}" "$0"; do [ "$dep" -nt "$lib" ] && stale=1; done
  [ $stale = 0 ] && exit 0
fi
mkdir -p "$out"
flags="-O3 -std=gnu11 -fPIC -shared -Wall -Wextra -Werror -mavx512f -mavx512bw -mavx512vl -mavx512bf16 -mamx-tile -mamx-bf16"
if ! "$cc" $flags -o "$lib.tmp" "${cs[@]}" 2>"$here/target/cpu-cc.log"; then
  cat "$here/target/cpu-cc.log" >&2
  if grep -q "unrecognized command-line option\|unknown.*amx" "$here/target/cpu-cc.log"; then
    echo "[dino4j] $cc cannot target AMX: building WITHOUT the native CPU kernels"; rm -f "$lib.tmp"; exit 0
  fi
  echo "[dino4j] gcc failed on the native CPU kernels" >&2; exit 1
fi
mv "$lib.tmp" "$lib"
echo "[dino4j] gcc: ${#cs[@]} C file(s) -> $(basename "$lib")"
