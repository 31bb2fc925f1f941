#!/usr/bin/env bash
# k-NN learning curves of `pretrain` on one GPU, several recipes side by side (the small model leaves the GPU
# mostly idle, so parallel runs cost little each). Per image seen, the CUDA path computes what the CPU path
# computes (same code, kernels tested against each other), so these curves say what a long CPU run would reach.
#
#   bench/gpu/ssl_curves.sh OUTDIR DATA SECONDS 'NAME: pretrain options' ['NAME: options' ...]
#
# DATA: a folder with the Fashion-MNIST IDX files (raw, .gz, or .xz, which is unpacked to /tmp first).
# Each run gets SECONDS of wall time (then it is stopped; its metrics so far are kept) and writes
# OUTDIR/NAME-metrics.jsonl and OUTDIR/NAME.log. Needs the bundle of `check.sh bundle`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"; cd "$ROOT"
out="$1" data="$2" secs="$3"; shift 3
mkdir -p "$out"
B="$ROOT/.dino4j/gpubundle"
[ -x "$B/jre/bin/java" ] || xz -dc "$B.tar.xz" | tar -C "$ROOT/.dino4j" -xf -
J="$B/jre/bin/java"; CP=$(ls "$B"/lib/*.jar | tr '\n' ':')
if ls "$data"/*.xz >/dev/null 2>&1; then
  mkdir -p /tmp/ssl-data && for f in "$data"/*.xz; do xz -dc "$f" > "/tmp/ssl-data/$(basename "$f" .xz)"; done
  data=/tmp/ssl-data
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
for spec in "$@"; do
  name="${spec%%:*}" opts="${spec#*:}"
  echo "== $name: pretrain --data $data$opts"
  ( timeout "$secs" "$J" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
      --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx24g \
      -Ddino4j.home="$ROOT" -cp "$CP" dino4j.dino.cli.Main pretrain --device cuda --data "$data" --out "/tmp/ssl-$name" $opts 2>&1 \
      | tr '\r' '\n' | grep -vE "^pretrain +[0-9]+%" > "$out/$name.log"
    cp "/tmp/ssl-$name/metrics.jsonl" "$out/$name-metrics.jsonl" 2>/dev/null ) &
done
wait
for spec in "$@"; do
  name="${spec%%:*}"
  echo "== $name"; grep -E "k-NN|images/s|Exception|Error" "$out/$name.log" | head -20
  grep -o '"step":[0-9]*,"images_seen":[0-9]*,"minutes":[0-9.]*,"knn_top1":[0-9.]*' "$out/$name-metrics.jsonl" 2>/dev/null
done
