#!/usr/bin/env bash
# The GPU check, in two halves:
#   bench/gpu/check.sh bundle        on a machine with JDK 25 + Maven (+ nvcc): builds .dino4j/gpubundle.tar.xz —
#                                    a jlink'd Java 25 runtime, our jars (kernels compiled by nvcc inside),
#                                    JCuda with only the natives we load, the gpu-tagged test classes and the
#                                    JUnit console launcher (about 36 MB; no JDK, Maven or network needed to run it).
#   bench/gpu/check.sh run [OUTDIR]  on the GPU machine, from the repository root: GPU and driver, which JCuda
#                                    libraries load, every `gpu` test, then the benchmarks (ours and PyTorch's
#                                    on the same GPU) into OUTDIR/gpu-<date>.md (default bench/results).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
B="$ROOT/.dino4j/gpubundle"
JUNIT=1.11.4

bundle() {
  cd "$ROOT"
  export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}" MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
  command -v nvcc >/dev/null || echo "check.sh: WARNING: no nvcc here, the bundle will carry no GPU kernels" >&2
  mvn -q -o package -DskipTests ${SKIP_NVCC:+-Dexec.skip=true}
  rm -rf "$B.tmp" && mkdir -p "$B.tmp/lib" "$B.tmp/tests"
  # our jars and their runtime dependencies, minus JMH (not used here) and the 9.5 MB JCuda natives jar
  for j in $(tr ':' '\n' < bench/target/classpath.txt) bench/target/dino4j-bench-*.jar; do
    case "$j" in *jmh*|*jopt-simple*|*commons-math3*|*jcuda-natives*|*jcublas-natives*|*-sources.jar) continue ;; esac
    cp "$j" "$B.tmp/lib/"
  done
  # JCuda looks for /lib/lib<Name>-12.6.0-linux-x86_64.so on the classpath: keep only the driver API,
  # runtime (JCublas2 touches its classes) and cuBLAS bindings
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && unzip -q -o ~/.m2/repository/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar 'lib/libJCudaDriver*' 'lib/libJCudaRuntime*' \
     && unzip -q -o ~/.m2/repository/org/jcuda/jcublas-natives/12.6.0/jcublas-natives-12.6.0-linux-x86_64.jar 'lib/libJCublas2*' \
     && "$JAVA_HOME/bin/jar" cf "$B.tmp/lib/jcuda-natives-slim.jar" lib)
  rm -rf "$tmp"
  # NO_TESTS=1: without the gpu tests and their launcher (3 MB less, for a run that only trains)
  if [ -z "${NO_TESTS:-}" ]; then
  for m in kernels tensor; do cp -r "$m/target/test-classes" "$B.tmp/tests/$m"; done
  mvn -q -o dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT -DoutputDirectory="$B.tmp" \
    || mvn -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT -DoutputDirectory="$B.tmp"
  fi
  # java.desktop for ImageIO; the image is left uncompressed because xz below packs it far smaller than jlink's zip
  "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,jdk.incubator.vector,jdk.unsupported,java.desktop \
    --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$B.tmp/jre"
  rm -rf "$B" && mv "$B.tmp" "$B"
  tar -C "$ROOT/.dino4j" -cf - gpubundle | xz -6 -T0 > "$B.tar.xz.tmp" && mv "$B.tar.xz.tmp" "$B.tar.xz"
  echo "check.sh: bundle $(du -sh "$B" | cut -f1) unpacked, $(du -sh "$B.tar.xz" | cut -f1) packed: $B.tar.xz"
  du -sh "$B"/* | sort -h
}

run() {
  cd "$ROOT"
  local out="${1:-$ROOT/bench/results}" day; day=$(date -u +%Y-%m-%d)
  local E2E_STEPS="${E2E_STEPS:-30}"
  mkdir -p "$out"
  if [ ! -x "$B/jre/bin/java" ] && [ -f "$B.tar.xz" ]; then xz -dc "$B.tar.xz" | tar -C "$ROOT/.dino4j" -xf -; fi
  local J="$B/jre/bin/java"
  [ -x "$J" ] || { echo "check.sh: no bundle at $B (run 'bench/gpu/check.sh bundle' where JDK 25 and Maven are)" >&2; exit 2; }
  local CP; CP=$(ls "$B"/lib/*.jar | tr '\n' ':')
  local JOPTS="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx16g"
  echo "== GPU"; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
  echo "== gpu-tagged tests (one JVM per class: a kernel fault poisons only its own CUDA context)"
  : > "$out/gpu-tests.log"
  local cls
  for cls in $(cd "$B/tests" && find . -name '*Cuda*Test.class' ! -name '*$*' | sed 's|^\./[a-z]*/||; s|\.class$||; s|/|.|g' | sort); do
    timeout 60 "$J" $JOPTS -cp "$B/junit-platform-console-standalone-$JUNIT.jar:$B/tests/kernels:$B/tests/tensor:$CP" \
      org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree --disable-ansi-colors --include-tag gpu --select-class "$cls" \
      >> "$out/gpu-tests.log" 2>&1 || echo "   $cls: FAILED (exit $?)" | tee -a "$out/gpu-tests.log"
  done
  grep -cE "✔" "$out/gpu-tests.log" | sed 's/^/tests passed: /'
  grep -E "✘" "$out/gpu-tests.log" | head -40 || true
  echo "== PyTorch peer"
  if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/torch_peer.py "$out/torch-peer.json" || echo "torch peer failed"
  else echo "no PyTorch with CUDA here: peer skipped"; fi
  echo "== dino4j benchmarks (one JVM per section)"
  rm -f "$out/gpu-$day.md" "$out/bench.log"
  local sec
  for sec in header gemm gemm-sm90 attention losses train highres; do
    timeout 90 "$J" $JOPTS -cp "$CP" dino4j.bench.GpuCheck --out "$out/gpu-$day.md" --torch "$out/torch-peer.json" \
      --tests "$out/gpu-tests.log" --sections "$sec" >> "$out/bench.log" 2>&1 || { echo "section $sec failed (exit $?):"; tail -20 "$out/bench.log"; }
  done
  echo "== end to end: ./dino4j pretrain --device cuda on the bundled data ($E2E_STEPS steps)"
  rm -rf /tmp/d4j-run
  timeout 120 "$J" $JOPTS -Ddino4j.home="$ROOT" -cp "$CP" dino4j.dino.cli.Main pretrain --device cuda --steps $E2E_STEPS --out /tmp/d4j-run 2>&1 \
    | tr '\r' '\n' | grep -vE "^pretrain +[0-9]+%" | tail -15 | tee "$out/pretrain-cuda.log" || true
  { echo; echo "## End to end: \`pretrain --device cuda --steps $E2E_STEPS\` (default small model, bundled Fashion-MNIST)"; echo; echo '```';
    cat "$out/pretrain-cuda.log"; cat /tmp/d4j-run/metrics.jsonl 2>/dev/null | sed -n '1,2p;$p'; echo '```'; } >> "$out/gpu-$day.md"
  cat "$out/gpu-$day.md"
}

case "${1:-}" in
  bundle) bundle ;;
  run) shift; run "$@" ;;
  *) sed -n 2,9p "$0"; exit 2 ;;
esac
