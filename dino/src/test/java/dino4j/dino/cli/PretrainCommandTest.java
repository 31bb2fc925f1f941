package dino4j.dino.cli;

import dino4j.dino.ssl.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** `pretrain` as a user runs it: a small IDX folder, a short run, then --resume from another folder's shell. */
class PretrainCommandTest {
    static void writeIdx(Path dir, String prefix, int n, Random r) throws IOException {
        try (var o = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte")))) {
            o.writeInt(0x803); o.writeInt(n); o.writeInt(28); o.writeInt(28);
            for (int i = 0; i < n * 28 * 28; i++) o.writeByte(r.nextInt(256));
        }
        try (var o = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte")))) {
            o.writeInt(0x801); o.writeInt(n);
            for (int i = 0; i < n; i++) o.writeByte(i % 10);
        }
    }

    static int run(String... args) { return new CommandLine(new PretrainCommand()).execute(args); }

    @Test
    void shortRunThenResumeFindsItsDataAndContinues(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data")), out = dir.resolve("run");
        Random r = new Random(3);
        writeIdx(data, "train", 48, r);
        writeIdx(data, "t10k", 20, r);
        String[] common = {"--out", out.toString(), "--batch", "8", "--local-crops", "2", "--workers", "0"};
        assertEquals(0, run(concat(common, "--data", data.toString(), "--steps", "2", "--eval-every", "1", "--matmul", "fp32")));
        Path ck = out.resolve("checkpoints/last.safetensors");
        assertEquals(2, TrainingCheckpoint.load(ck).step());
        // what watches the run and its precision are the run's: --resume keeps them unless given again
        assertEquals(1, TrainingCheckpoint.load(ck).config().evalEvery);
        assertEquals("fp32", TrainingCheckpoint.load(ck).config().matmul);
        var c0 = TrainingCheckpoint.load(ck).config();   // vit-fashion's 32-pixel crops: no blur unless --blur-p says so
        assertArrayEquals(new double[]{0, 0, 0}, new double[]{c0.blurGlobal1P, c0.blurGlobal2P, c0.blurLocalP});
        assertTrue(Files.exists(out.resolve("exported/backbone.safetensors")));
        String metrics = Files.readString(out.resolve("metrics.jsonl"));
        assertTrue(metrics.contains("\"knn_top1\"") && metrics.contains("\"dino_global\""), metrics);
        assertEquals(3, metrics.split("\"knn_top1\"", -1).length - 1, "before, at step 1 (--eval-every 1) and after: " + metrics);
        assertEquals(3, metrics.split("\"rankme\"", -1).length - 1, "RankMe beside every k-NN: " + metrics);
        assertTrue(Files.readString(out.resolve("train.log")).contains("after training: k-NN"));

        // the same folder again without --resume is refused, naming what to do
        assertNotEquals(0, run(concat(common, "--data", data.toString())));
        // --resume without --data: the run remembers its data; --steps extends it
        assertEquals(0, run(concat(common, "--resume", "--steps", "3")));
        assertEquals(3, TrainingCheckpoint.load(ck).step());
        assertEquals(1, TrainingCheckpoint.load(ck).config().evalEvery);
        assertEquals("fp32", TrainingCheckpoint.load(ck).config().matmul);
        assertEquals(data.toAbsolutePath().toString(), TrainingCheckpoint.load(ck).config().data);

        // `knn` evaluates the run's teacher (training checkpoint) and its exported backbone alike
        for (Path w : new Path[]{ck, out.resolve("exported/backbone.safetensors")}) {
            var buf = new java.io.StringWriter();
            var cl = new CommandLine(new KnnCommand());
            cl.setOut(new java.io.PrintWriter(buf));
            java.io.PrintStream old = System.out;
            var bytes = new java.io.ByteArrayOutputStream();
            System.setOut(new java.io.PrintStream(bytes, true));
            try {
                assertEquals(0, cl.execute("--weights", w.toString(), "--data", data.toString(), "--features", "cls+patch-mean", "--device", "cpu"));
            } finally {
                System.setOut(old);
            }
            String printed = bytes.toString();
            assertTrue(printed.contains("k-NN top-1") && printed.contains("48 reference / 20 query") && printed.contains("cls+patch-mean"), printed);
        }
        assertNotEquals(0, new CommandLine(new KnnCommand()).execute("--weights", ck.toString(), "--data", data.toString(), "--features", "mean"));
        // `linear` probes the same backbone: grid on a held-out part of the reference images, then the query score
        java.io.PrintStream old = System.out;
        var bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true));
        try {
            assertEquals(0, new CommandLine(new LinearCommand()).execute("--weights", out.resolve("exported/backbone.safetensors").toString(),
                    "--data", data.toString(), "--epochs", "2", "--lr", "0.01,0.1", "--wd", "0", "--device", "cpu",
                    "--out", dir.resolve("head.safetensors").toString()));
        } finally {
            System.setOut(old);
        }
        String printed = bytes.toString();
        assertTrue(printed.contains("linear top-1") && printed.contains("48 reference / 20 query") && printed.contains("lr 0.1")
                && printed.contains("held-out 10 %"), printed);
        var head = dino4j.tensor.io.Safetensors.read(dir.resolve("head.safetensors"));
        assertArrayEquals(new int[]{10, 384}, head.get("weight").shape(), "10 classes × [CLS, mean patch] of vit-fashion (192 wide)");
        assertArrayEquals(new int[]{384}, head.get("feature_std").shape());
        assertEquals("cls+patch-mean", head.metadata().get("features"));
        assertNotEquals(0, new CommandLine(new LinearCommand()).execute("--weights", ck.toString(), "--data", data.toString(), "--lr", "fast"));
        assertNotEquals(0, new CommandLine(new LinearCommand()).execute("--weights", ck.toString(), "--data", data.toString(), "--val-fraction", "1"));
        // `heads` probes the run's teacher; --layerscale belongs to --init only
        assertEquals(0, new CommandLine(new HeadsCommand()).execute("--weights", ck.toString(), "--data", data.toString(), "--images", "8"));
        assertNotEquals(0, new CommandLine(new HeadsCommand()).execute("--weights", ck.toString(), "--layerscale", "0.1"));
    }

    @Test
    void unlabelledImagesAreWatchedByTheirRankMe(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("photos")), out = dir.resolve("run");
        Random r = new Random(4);
        for (int i = 0; i < 24; i++) {
            var img = new java.awt.image.BufferedImage(28, 28, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, r.nextInt(256));
            javax.imageio.ImageIO.write(img, "png", data.resolve("img" + i + ".png").toFile());
        }
        assertEquals(0, run("--data", data.toString(), "--out", out.toString(), "--steps", "2", "--batch", "8", "--local-crops", "2",
                "--workers", "0", "--eval-every", "1", "--matmul", "fp32"));
        String metrics = Files.readString(out.resolve("metrics.jsonl"));
        assertFalse(metrics.contains("knn_top1"), metrics);
        assertEquals(3, metrics.split("\"rankme\"", -1).length - 1, "before, at step 1 and after: " + metrics);
        String log = Files.readString(out.resolve("train.log"));
        assertTrue(log.contains("no labels in") && log.contains("RankMe of 24 unlabelled images") && log.contains("after training: RankMe"), log);
    }

    @Test
    void augmentationAndKnnOptionsReachTheRunsConfig(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data")), out = dir.resolve("run");
        Random r = new Random(4);
        writeIdx(data, "train", 16, r);
        writeIdx(data, "t10k", 10, r);
        assertEquals(0, run("--out", out.toString(), "--batch", "8", "--local-crops", "2", "--workers", "0", "--data", data.toString(),
                "--steps", "1", "--crop-scales", "0.4,0.1,0.45", "--blur-sigma", "0.1,0.5", "--blur-p", "0.1,0.5,0.2",
                "--solarize-p", "0", "--knn-features", "patch-mean", "--teacher-temp", "0.03,0.05", "--freeze-last-layer", "0.25", "--koleo", "0.2",
                "--momentum", "0.995,0.999", "--crop-ratio", "0.9,1.1"));
        var cfg = TrainingCheckpoint.load(out.resolve("checkpoints/last.safetensors")).config();
        assertArrayEquals(new double[]{0.4, 0.1, 0.45, 0.1, 0.5, 0.1, 0.5, 0.2, 0.0},
                new double[]{cfg.globalScaleMin, cfg.localScaleMin, cfg.localScaleMax, cfg.blurSigmaMin, cfg.blurSigmaMax,
                        cfg.blurGlobal1P, cfg.blurGlobal2P, cfg.blurLocalP, cfg.solarizeP});
        assertEquals("patch-mean", cfg.knnFeatures);
        assertArrayEquals(new double[]{0.03, 0.05, 0.25, 0.2, 0.995, 0.999}, new double[]{cfg.teacherTempStart, cfg.teacherTemp,
                cfg.freezeLastLayerFraction, cfg.koleoWeight, cfg.momentumStart, cfg.momentumEnd});
        assertTrue(Files.readString(out.resolve("train.log")).contains("features patch-mean"));
        var mc = dino4j.dino.ssl.SslTrainer.multiCropConfig(cfg);
        assertArrayEquals(new double[]{0.4, 1.0, 0.1, 0.45, 0.1, 0.5, 0.1, 0.5, 0.2, 0.0, 0.9, 1.1},
                new double[]{mc.globalScaleMin(), mc.globalScaleMax(), mc.localScaleMin(), mc.localScaleMax(), mc.blurSigmaMin(),
                        mc.blurSigmaMax(), mc.blurGlobal1P(), mc.blurGlobal2P(), mc.blurLocalP(), mc.solarizeP(), mc.ratioMin(), mc.ratioMax()});
    }

    @Test
    void badAugmentationOptionsNameTheOption() {
        var e = assertThrows(IllegalArgumentException.class, () -> PretrainCommand.numbers("--blur-p", "0,0.5", 3));
        assertTrue(e.getMessage().contains("--blur-p") && e.getMessage().contains("3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PretrainCommand.numbers("--crop-scales", "0.3,x,0.4", 3));
        assertTrue(e.getMessage().contains("--crop-scales") && e.getMessage().contains("'x'"), e.getMessage());
        String[][] bad = {{"blurGlobal2P", "--blur-p"}, {"localScaleMin", "--crop-scales"}, {"blurSigmaMax", "--blur-sigma"},
                {"teacherTemp", "--teacher-temp"}, {"freeze", "--freeze-last-layer"}, {"momentum", "--momentum"}, {"ratio", "--crop-ratio"}};
        for (String[] b : bad) {
            var cfg = new dino4j.dino.ssl.SslConfig();
            switch (b[0]) {
                case "blurGlobal2P" -> cfg.blurGlobal2P = 1.5;
                case "localScaleMin" -> cfg.localScaleMin = 0.5;   // above localScaleMax 0.32
                case "teacherTemp" -> cfg.teacherTemp = 0;
                case "freeze" -> cfg.freezeLastLayerFraction = 1.5;
                case "momentum" -> cfg.momentumStart = 1.01;       // above END 1.0
                case "ratio" -> cfg.cropRatioMin = 2;              // above MAX 4/3
                default -> cfg.blurSigmaMax = 0.05;                // below the minimum 0.1
            }
            e = assertThrows(IllegalArgumentException.class, cfg::validate);
            assertTrue(e.getMessage().contains(b[1]), e.getMessage());
        }
        var cfg = new dino4j.dino.ssl.SslConfig();
        cfg.knnFeatures = "mean";
        e = assertThrows(IllegalArgumentException.class, cfg::validate);
        assertTrue(e.getMessage().contains("--knn-features"), e.getMessage());
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void matmulOptionIsCheckedAndSetsTheCpuPrecision() {
        var before = dino4j.kernels.GemmKernels.matmulPrecision();
        try {
            var e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.matmul("fp16", dino4j.tensor.Device.CPU));
            assertTrue(e.getMessage().contains("--matmul") && e.getMessage().contains("'fp16'"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.matmul("tf32", dino4j.tensor.Device.CPU));
            assertTrue(e.getMessage().contains("GPU only"), e.getMessage());
            DeviceChoice.matmul("BF16", dino4j.tensor.Device.CPU);
            assertEquals(dino4j.kernels.GemmKernels.Precision.BF16, dino4j.kernels.GemmKernels.matmulPrecision());
            assertTrue(DeviceChoice.matmul("fp32", dino4j.tensor.Device.CPU).startsWith("matmul: fp32"));
            assertEquals(dino4j.kernels.GemmKernels.Precision.FP32, dino4j.kernels.GemmKernels.matmulPrecision());
        } finally {
            dino4j.kernels.GemmKernels.setMatmulPrecision(before);
        }
    }

    @Test
    void evalImagesTakesCountsOrAllAndNamesTheOptionWhenWrong() {
        var cfg = new dino4j.dino.ssl.SslConfig();
        PretrainCommand.setEvalImages(cfg, "60000,10000");
        assertEquals(60000, cfg.evalTrainImages);
        assertEquals(10000, cfg.evalTestImages);
        PretrainCommand.setEvalImages(cfg, "all");
        assertEquals(Integer.MAX_VALUE, cfg.evalTrainImages);
        assertEquals(Integer.MAX_VALUE, cfg.evalTestImages);
        PretrainCommand.setEvalImages(cfg, "500, all");
        assertEquals(500, cfg.evalTrainImages);
        assertEquals(Integer.MAX_VALUE, cfg.evalTestImages);
        for (String bad : new String[]{"500", "a,b", "-1,5", "1,2,3"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> PretrainCommand.setEvalImages(cfg, bad));
            assertTrue(e.getMessage().contains("--eval-images") && e.getMessage().contains(bad), e.getMessage());
        }
    }

    static dino4j.dino.ssl.SslConfig configOf(String... args) throws IOException {
        var cmd = new PretrainCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.buildConfig();
    }

    @Test
    void smallModelsGetTheirRecipeAndEveryOptionOverridesIt() throws IOException {
        for (String m : new String[]{"vit-fashion", "vit-fashion-tiny"}) {
            var c = configOf("--model", m);
            assertArrayEquals(new double[]{1e-5, 0.02, 0.04, 0.07, 0, 0, 0, 1.0, 0.98, 128, 45}, new double[]{c.vit.layerScaleInit(),
                    c.prototypeInitStd, c.teacherTempStart, c.teacherTemp, c.blurGlobal1P, c.blurGlobal2P, c.blurLocalP, c.layerDecay,
                    c.momentumStart, c.batch, c.steps}, m);
        }
        // the long-run "live heads" recipe of bench/results/pretrain-fashion.md, and the official blur, given as options
        var c = configOf("--model", "vit-fashion-tiny", "--layerscale", "0.1", "--prototype-std", "0.0884", "--teacher-temp", "0.02,0.04",
                "--blur-p", "0,0.9,0.5", "--batch", "64");
        assertArrayEquals(new double[]{0.1, 0.0884, 0.02, 0.04, 0, 0.9, 0.5, 64}, new double[]{c.vit.layerScaleInit(), c.prototypeInitStd,
                c.teacherTempStart, c.teacherTemp, c.blurGlobal1P, c.blurGlobal2P, c.blurLocalP, c.batch});
        // released architectures keep the reference recipe
        c = configOf("--model", "vits16");
        assertArrayEquals(new double[]{1e-5, 0.02, 0.04, 0.07, 0.9, 0.9, 0.992, 32}, new double[]{c.vit.layerScaleInit(), c.prototypeInitStd,
                c.teacherTempStart, c.teacherTemp, c.blurGlobal2P, c.layerDecay, c.momentumStart, c.batch});
    }
}
