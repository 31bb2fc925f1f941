#!/usr/bin/env bash
# Compiles every kernels/src/main/cuda/<family>.cu to target/classes/dino4j/cuda/<family>.fatbin:
# sm_80 and sm_90 machine code plus compute_90 PTX (newer GPUs JIT it), warnings as errors, and the
# ptxas resource report kept in target/cuda/<family>.ptxas.txt; a spill or any local memory fails the
# build. A family whose first line is `// nvcc-arch: <nvcc target flags>` is compiled for those targets
# instead (gemm_sm90.cu: `-gencode=arch=compute_90a,code=sm_90a`, since wgmma exists only on sm_90a).
# Without nvcc the build goes on and the jar ships without GPU kernels (the CPU backend is used).
# Called by Maven (generate-resources); runs only what changed. NVCC=/path/to/nvcc overrides the search.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/src/main/cuda"
out="$here/target/classes/dino4j/cuda"
rep="$here/target/cuda"
nvcc="${NVCC:-$(command -v nvcc || true)}"
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "[dino4j] nvcc not found: building WITHOUT GPU kernels (CUDA backend disabled in this build)"
  rm -rf "$out"
  exit 0
fi
mkdir -p "$out" "$rep"
arch="-gencode=arch=compute_80,code=sm_80 -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_90,code=compute_90"
flags="-O3 -std=c++17 -lineinfo -Werror all-warnings -Xptxas -v,-warn-spills,-warn-lmem-usage,-Werror"
headers=$(ls "$src"/*.cuh 2>/dev/null || true)
compile() {
  local cu="$1" fam; fam="$(basename "$cu" .cu)"
  local fb="$out/$fam.fatbin" log="$rep/$fam.ptxas.txt" targets="$arch" first
  IFS= read -r first < "$cu" || true
  if [[ "$first" =~ ^//[[:space:]]*nvcc-arch:[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]]; then targets="${BASH_REMATCH[1]}"; fi
  if [ -f "$fb" ]; then
    local stale=0
    for dep in "$cu" $headers "$script"; do [ "$dep" -nt "$fb" ] && stale=1; done   # $0 is "_" under xargs
    [ $stale = 0 ] && return 0
  fi
  if ! "$nvcc" -fatbin $targets $flags -I"$src" -o "$fb.tmp" "$cu" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$fb.tmp"; echo "[dino4j] nvcc failed on $fam.cu" >&2; return 1
  fi
  if grep -E "[1-9][0-9]* bytes (stack frame|spill)" "$log" >&2; then
    echo "[dino4j] $fam.cu uses local memory or spills (see $log)" >&2; rm -f "$fb.tmp"; return 1
  fi
  mv "$fb.tmp" "$fb"
  local own=""; [ "$targets" != "$arch" ] && own="; $targets"
  echo "[dino4j] nvcc: $fam.cu -> $fam.fatbin ($(grep -c 'Compiling entry' "$log") kernel builds$own)"
}
shopt -s nullglob; cus=("$src"/*.cu); shopt -u nullglob
if [ ${#cus[@]} = 0 ]; then echo "[dino4j] no .cu files in $src"; exit 0; fi
script="$here/$(basename "$0")"
export -f compile; export nvcc arch flags out rep src headers script
printf '%s\n' "${cus[@]}" | xargs -P "$(nproc)" -I{} bash -c 'compile "$@"' _ {}
printf '%s\n' "${cus[@]}" | xargs -n1 basename | sed 's/\.cu$//' > "$out/MANIFEST"
"$nvcc" --version | tail -1 > "$out/MANIFEST.nvcc"
