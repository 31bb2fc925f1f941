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
        assertEquals(0, run(concat(common, "--data", data.toString(), "--steps", "2")));
        Path ck = out.resolve("checkpoints/last.safetensors");
        assertEquals(2, TrainingCheckpoint.load(ck).step());
        assertTrue(Files.exists(out.resolve("exported/backbone.safetensors")));
        String metrics = Files.readString(out.resolve("metrics.jsonl"));
        assertTrue(metrics.contains("\"knn_top1\"") && metrics.contains("\"dino_global\""), metrics);
        assertTrue(Files.readString(out.resolve("train.log")).contains("k-NN after training"));

        // the same folder again without --resume is refused, naming what to do
        assertNotEquals(0, run(concat(common, "--data", data.toString())));
        // --resume without --data: the run remembers its data; --steps extends it
        assertEquals(0, run(concat(common, "--resume", "--steps", "3")));
        assertEquals(3, TrainingCheckpoint.load(ck).step());
        assertEquals(data.toAbsolutePath().toString(), TrainingCheckpoint.load(ck).config().data);
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
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
}
