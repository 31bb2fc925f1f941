package dino4j.bench;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.dino.model.VitConfig;
import dino4j.kernels.Parallel;
import dino4j.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./dino4j bench vit}: eval-mode ViT forward, images/s, ours and PyTorch's in one run (the peer is
 * bench/peers/torch_vit.py, the same architecture in eager PyTorch, run when python3 can import torch).
 */
@Command(name = "vit", mixinStandardHelpOptions = true, description = "ViT forward images/s: ours vs PyTorch (same model, batch, size, threads).")
final class VitBench implements Callable<Integer> {
    @Option(names = "--model", description = "vits16, vitb16 or vitl16 (default: ${DEFAULT-VALUE})") String model = "vits16";
    @Option(names = "--batch", description = "batch size (default: ${DEFAULT-VALUE})") int batch = 8;
    @Option(names = "--size", description = "image side in pixels (default: ${DEFAULT-VALUE})") int size = 224;
    @Option(names = "--reps", description = "timed forwards after one warm-up (default: ${DEFAULT-VALUE})") int reps = 5;
    @Option(names = "--python", description = "python with torch for the peer (default: ${DEFAULT-VALUE}; 'none' to skip)") String python = "/usr/bin/python3";

    @Override public Integer call() throws Exception {
        int threads = Parallel.threads();
        var m = new DinoVisionTransformer(VitConfig.preset(model), new Random(0));
        m.eval();
        Tensor x = Tensor.randn(new Random(1), batch, 3, size, size);
        double[] t = new double[reps];
        try (var g = Grad.noGrad()) {
            for (int w = 0; w < 2; w++) m.forwardFeatures(Var.constant(x));
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                m.forwardFeatures(Var.constant(x));
                t[r] = (System.nanoTime() - t0) / 1e9;
            }
        }
        Arrays.sort(t);
        double ours = batch / t[reps / 2];
        System.out.printf("dino4j: %s %dx%d batch %d, %d threads: median %.3f s, best %.3f s -> %.2f images/s%n",
                model, size, size, batch, threads, t[reps / 2], t[0], ours);
        Double peer = python.equals("none") ? null : runPeer(threads);
        if (peer != null)
            System.out.printf("vit %s %d² batch %d fwd: ours %.2f images/s, pytorch %.2f images/s, ratio %.2f%n", model, size, batch, ours, peer, ours / peer);
        return 0;
    }

    private Double runPeer(int threads) throws Exception {
        return runPeer(python, "torch_vit.py", java.util.List.of(model, Integer.toString(batch), Integer.toString(size),
                Integer.toString(reps), Integer.toString(threads)));
    }

    /**
     * Runs bench/peers/SCRIPT with ARGS under {@code python}, echoing its output; returns the number after
     * "imgs/s" on its last line, or null (with the reason printed) when the peer cannot run.
     */
    static Double runPeer(String python, String scriptName, java.util.List<String> args) throws Exception {
        Path script = Path.of(System.getProperty("dino4j.home", "."), "bench", "peers", scriptName);
        if (!Files.exists(script) || !Files.isExecutable(Path.of(python))) {
            System.out.println("pytorch: skipped (" + (Files.exists(script) ? python + " not found" : script + " missing") + ")");
            return null;
        }
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(python, script.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        String core = OpenBlas.preferredCoreType();   // Debian's torch uses OpenBLAS: give it its best kernel, as the gemm bench does
        if (core != null && System.getenv("OPENBLAS_CORETYPE") == null) pb.environment().put("OPENBLAS_CORETYPE", core);
        System.out.println("pytorch: OPENBLAS_CORETYPE=" + pb.environment().getOrDefault("OPENBLAS_CORETYPE", "(unset)"));
        Process p = pb.start();
        String line, last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            while ((line = r.readLine()) != null) { System.out.println("pytorch: " + line); last = line; }
        }
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0 || last == null || !last.contains("imgs/s")) {
            System.out.println("pytorch: peer failed (is torch installed for " + python + "? Debian: python3-torch)");
            return null;
        }
        return Double.parseDouble(last.substring(last.indexOf("imgs/s") + 6).trim());
    }
}
