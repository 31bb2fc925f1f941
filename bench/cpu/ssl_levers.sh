#!/usr/bin/env bash
# Recipe comparisons on this machine's CPU: several `pretrain` runs, PARALLEL at a time with one thread each
# (on 2 cores two one-thread processes see ≈ 1.75× the images/s of one two-thread process), each in its own
# folder, then one table of their k-NN curves. Each run gets an equal share of the RAM as its fixed heap.
#
#   bench/cpu/ssl_levers.sh OUTDIR PARALLEL 'NAME: pretrain options' ['NAME: options' ...]
#
# e.g. one epoch of two recipes, two at a time (the protocol of bench/results/pretrain-fashion.md, sessions 7-10):
#   R="--data /usr/share/datasets/fashion-mnist --model vit-fashion-tiny --epochs 1 --batch 64 --eval-every 469 \
#      --eval-images 20000,10000 --matmul bf16 --layerscale 0.1 --prototype-std 0.0884 --teacher-temp 0.02,0.04"
#   bench/cpu/ssl_levers.sh runs/levers 2 "base: $R" "locals8: $R --local-crops 8"
# Writes OUTDIR/NAME/ (the run: metrics.jsonl, train.log, checkpoints) and OUTDIR/NAME.log (its console), then
# prints a Markdown table: k-NN at every evaluation, training minutes and images/s.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ $# -ge 3 ] || { echo "usage: $0 OUTDIR PARALLEL 'NAME: pretrain options' ..." >&2; exit 2; }
out="$1" par="$2"; shift 2
[[ "$par" =~ ^[1-9][0-9]*$ ]] || { echo "$0: PARALLEL must be a positive number, got '$par'" >&2; exit 2; }
for spec in "$@"; do
  name="${spec%%:*}"
  [[ "$spec" == *:* && "$name" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "$0: '$spec' is not 'NAME: options' (NAME of letters, digits, . _ -)" >&2; exit 2; }
  [ -e "$out/$name" ] && { echo "$0: $out/$name exists; pick another NAME or OUTDIR" >&2; exit 2; }
done
mkdir -p "$out"
"$ROOT/dino4j" build -q >/dev/null || { echo "$0: build failed (run ./dino4j build)" >&2; exit 1; }   # once, so the runs do not race to rebuild
heap=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 / (par + 1) ))

for spec in "$@"; do
  while (( $(jobs -rp | wc -l) >= par )); do wait -n; done
  name="${spec%%:*}" opts="${spec#*:}"
  echo "$(date +%H:%M) start $name:$opts"
  # shellcheck disable=SC2086  # the options are meant to split
  ( DINO4J_JAVA_OPTS="-Ddino4j.threads=1 -Xms${heap}m -Xmx${heap}m" "$ROOT/dino4j" pretrain --out "$out/$name" $opts 2>&1 \
      | tr '\r' '\n' | grep -vE "^pretrain +[0-9]+%" > "$out/$name.log"
    echo "$(date +%H:%M) done  $name" ) &
done
wait

echo
echo "| run | k-NN at each evaluation | training minutes | images/s |"
echo "|---|---|---:|---:|"
for spec in "$@"; do
  name="${spec%%:*}" m="$out/$name/metrics.jsonl"
  knn=$(grep -o '"knn_top1":[0-9.]*' "$m" 2>/dev/null | cut -d: -f2 | awk '{printf "%s%.2f", (NR > 1 ? " / " : ""), 100 * $1}')
  mins=$(tail -n 1 "$m" 2>/dev/null | grep -o '"minutes":[0-9.]*' | cut -d: -f2)
  ips=$(grep -o '[0-9.]* images/s (data wait' "$out/$name.log" | tail -n 1 | cut -d' ' -f1)
  echo "| $name | ${knn:-none} | ${mins:-?} | ${ips:-?} |"
done
