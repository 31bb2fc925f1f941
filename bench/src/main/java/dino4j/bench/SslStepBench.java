package dino4j.bench;

import dino4j.dino.data.DatasetPaths;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.ssl.SslConfig;
import dino4j.dino.ssl.SslTrainer;
import dino4j.kernels.GemmBf16;
import dino4j.kernels.GemmKernels;
import dino4j.kernels.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code ./dino4j bench ssl}: images/s of one SSL pretraining step (teacher, student, DINO + iBOT + KoLeo,
 * Sinkhorn-Knopp, backward, clipping, AdamW, EMA) in the small configuration, ours and PyTorch's in
 * one run (the peer is bench/peers/torch_ssl_step.py, the same step in eager PyTorch on random crops).
 * Ours trains on the bundled Fashion-MNIST subset with its loader threads running beside the step, as
 * {@code ./dino4j pretrain} does.
 */
@Command(name = "ssl", mixinStandardHelpOptions = true,
        description = "SSL training step images/s (vit-fashion: 192 wide, 6 deep, 2×32² + 4×16² crops; or vit-fashion-tiny): ours vs PyTorch.")
final class SslStepBench implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--model", paramLabel = "NAME", description = "vit-fashion or vit-fashion-tiny (96 wide, 4 deep) (default: ${DEFAULT-VALUE})") String model = "vit-fashion";
    @Option(names = "--batch", description = "images per step (default: ${DEFAULT-VALUE})") int batch = 128;
    @Option(names = "--steps", description = "timed steps after 2 warm-up steps (default: ${DEFAULT-VALUE})") int steps = 6;
    @Option(names = "--matmul", paramLabel = "P", description = "fp32, or bf16: our large products on AMX tiles or AVX512-BF16 (bf16 inputs, fp32 sums), the peer under torch.autocast(bfloat16) (default: ${DEFAULT-VALUE})") String matmul = "fp32";
    @Option(names = "--peer-matmul", paramLabel = "P", description = "the peer's precision when it should differ from --matmul: fp32 or bf16 (default: as --matmul)") String peerMatmul;
    @Option(names = "--python", description = "python with torch for the peer (default: ${DEFAULT-VALUE}; 'none' to skip)") String python = "/usr/bin/python3";

    @Override public Integer call() throws Exception {
        int threads = Parallel.threads();
        String peer = (peerMatmul != null ? peerMatmul : matmul).toLowerCase(java.util.Locale.ROOT);
        GemmKernels.parsePrecision("--peer-matmul", peer);
        var precision = GemmKernels.setMatmulPrecision(GemmKernels.parsePrecision("--matmul", matmul));
        System.out.printf("dino4j: matmul %s (%s)%n", precision.name().toLowerCase(), GemmBf16.status());
        if (!model.equals("vit-fashion") && !model.equals("vit-fashion-tiny"))
            throw new IllegalArgumentException("--model must be vit-fashion or vit-fashion-tiny (the peer builds the same backbone), got '" + model + "'");
        SslConfig c = new SslConfig();
        c.model = model;
        c.vit = SslConfig.resolveModel(model);
        c.applySmallModelRecipe();   // what ./dino4j pretrain runs for vit-fashion (its loader threads share the cores)
        c.batch = batch;
        c.steps = steps + 2;
        ImageDataset data = DatasetPaths.openTrain(DatasetPaths.bundledFashion());
        Path out = Files.createTempDirectory("dino4j-bench-ssl");
        double[] t = new double[steps];
        try (SslTrainer tr = new SslTrainer(c, data, null, out)) {
            tr.trainStep();
            tr.trainStep();
            if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.reset();   // -Ddino4j.profile=true: the timed steps only
            for (int i = 0; i < steps; i++) {
                t[i] = tr.trainStep().seconds();
                System.out.printf("dino4j: step %d: %.3f s%n", i + 1, t[i]);
            }
            if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.printAndReset();
        }
        Arrays.sort(t);
        double ours = batch / t[steps / 2];
        System.out.printf("dino4j: batch %d, %d threads: median %.3f s, best %.3f s -> %.2f images/s%n", batch, threads, t[steps / 2], t[0], ours);
        Double peerRate = python.equals("none") ? null : VitBench.runPeer(python, "torch_ssl_step.py",
                java.util.List.of(Integer.toString(batch), Integer.toString(c.globalSize), Integer.toString(c.localSize),
                        Integer.toString(c.nLocal), Integer.toString(steps), Integer.toString(threads), peer,
                        c.vit.embedDim() + "," + c.vit.depth()));
        if (peerRate != null)
            System.out.printf("ssl step %s batch %d: ours (%s) %.2f images/s, pytorch (%s) %.2f images/s, ratio %.2f%n",
                    model, batch, matmul.toLowerCase(java.util.Locale.ROOT), ours, peer, peerRate, ours / peerRate);
        return 0;
    }
}
