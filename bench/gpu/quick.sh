#!/usr/bin/env bash
# A time-boxed variant of `check.sh run` for a nearly spent device lease: one JVM for all gpu tests, one for
# all benchmark sections, the PyTorch peer with fewer repetitions, then a 3-step pretrain on the GPU.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"; cd "$ROOT"
out="${1:-$ROOT/bench/results}"; day=$(date -u +%Y-%m-%d); mkdir -p "$out"
B="$ROOT/.dino4j/gpubundle"
[ -x "$B/jre/bin/java" ] || xz -dc "$B.tar.xz" | tar -C "$ROOT/.dino4j" -xf -
J="$B/jre/bin/java"; CP=$(ls "$B"/lib/*.jar | tr '\n' ':')
JOPTS="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx16g"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
timeout 70 "$J" $JOPTS -cp "$B/junit-platform-console-standalone-1.11.4.jar:$B/tests/kernels:$B/tests/tensor:$CP" \
  org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree --disable-ansi-colors --include-tag gpu --scan-class-path \
  > "$out/gpu-tests.log" 2>&1; echo "tests exit $?"
grep -E "tests (successful|failed|skipped|aborted)" "$out/gpu-tests.log"; grep -E "✘" "$out/gpu-tests.log" | head -30
PYTHONUNBUFFERED=1 timeout 45 python3 bench/gpu/torch_peer.py "$out/torch-peer.json" --quick; echo "peer exit $?"
timeout 60 "$J" $JOPTS -cp "$CP" dino4j.bench.GpuCheck --out "$out/gpu-$day.md" --torch "$out/torch-peer.json" \
  --tests "$out/gpu-tests.log" --sections header,gemm,attention,losses,train,highres > "$out/bench.log" 2>&1; echo "bench exit $?"
grep -E "^\[gpu check\]|Exception|Error" "$out/bench.log" | head -20
timeout 30 "$J" $JOPTS -Ddino4j.home="$ROOT" -cp "$CP" dino4j.dino.cli.Main pretrain --device cuda --steps 3 --out /tmp/d4j-run 2>&1 \
  | tr '\r' '\n' | grep -vE "^pretrain +[0-9]+%" | tail -12 > "$out/pretrain-cuda.log"; cat "$out/pretrain-cuda.log"
cat "$out/gpu-$day.md" 2>/dev/null
