package dino4j.dino.ssl;

import dino4j.dino.data.Idx;
import dino4j.dino.data.IdxDataset;
import dino4j.dino.model.VitConfig;

import java.nio.file.Path;
import java.util.Random;

/** A seconds-fast SSL setup for tests: a 2-block 32-wide ViT on 64 random 28×28 images. */
final class TinySsl {
    private TinySsl() {}

    static SslConfig config() {
        SslConfig c = new SslConfig();
        c.model = "tiny";
        c.vit = new VitConfig("tiny", 32, 2, 2, "mlp", 2, 1, 4, true, true, 0.1, 1e-6, false, 100);
        c.dinoHidden = c.ibotHidden = 32;
        c.dinoBottleneck = c.ibotBottleneck = 16;
        c.dinoPrototypes = c.ibotPrototypes = 64;
        c.globalSize = 16;
        c.localSize = 8;
        c.nLocal = 2;
        c.batch = 8;
        c.steps = 12;
        c.workers = 0;
        c.dropPath = 0.1;
        c.freezeLastLayerFraction = 0.2;
        return c;
    }

    static IdxDataset data() {
        Random r = new Random(5);
        float[][] px = new float[64][28 * 28];
        int[] labels = new int[64];
        for (int i = 0; i < 64; i++) {
            labels[i] = i % 4;
            for (int j = 0; j < px[i].length; j++) px[i][j] = (float) Math.min(1, Math.max(0, 0.2 * labels[i] + 0.3 * r.nextDouble()));
        }
        return new IdxDataset(new Idx.Images(64, 28, 28, px), labels);
    }

    /** Child-process entry for the kill test: trains TinySsl with a checkpoint after every step. */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        SslConfig c = config();
        c.steps = Long.parseLong(args[1]);
        Path ck = out.resolve("checkpoints").resolve("last.safetensors");
        try (SslTrainer t = new SslTrainer(c, data(), null, out)) {
            if (java.nio.file.Files.exists(ck)) t.restore(TrainingCheckpoint.load(ck));
            while (t.step() < c.steps) {
                t.trainStep();
                t.saveCheckpoint();
                System.out.println("saved " + t.step());
                System.out.flush();
            }
        }
    }
}
