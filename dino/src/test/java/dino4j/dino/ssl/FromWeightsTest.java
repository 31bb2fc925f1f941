package dino4j.dino.ssl;

import dino4j.dino.model.Checkpoints;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** --from-weights: continue SSL from an official checkpoint (backbone loaded in student and teacher, heads new). */
class FromWeightsTest {
    static Path golden(String name) {
        Path p = Path.of(System.getProperty("dino4j.shared", "../shared"), "golden", name);
        return Files.exists(p) ? p : Path.of("/work/shared/golden", name);
    }

    @Test
    void officialPthStartsTheBackboneAndTrainingRuns(@TempDir Path dir) throws Exception {
        Path pth = golden("vit_tiny.pth");
        Map<String, Tensor> official = Checkpoints.readStateDict(pth);
        SslConfig c = TinySsl.config();
        c.vit = Checkpoints.inferVitConfig(official);   // 128 wide, 2 blocks, patch 16, 4 storage tokens
        c.model = c.vit.name();
        c.globalSize = 32;
        c.localSize = 16;
        c.steps = 2;
        try (SslTrainer t = new SslTrainer(c, TinySsl.data(), null, dir)) {
            t.loadBackboneWeights(pth);
            for (var m : new Map[]{t.student.backbone.stateDict(), t.teacher.backbone.stateDict()}) {
                @SuppressWarnings("unchecked") Map<String, Tensor> sd = m;
                for (var e : official.entrySet())
                    assertArrayEquals(e.getValue().toFloatArray(), sd.get(e.getKey()).toFloatArray(), 0f, e.getKey());
            }
            var m1 = t.trainStep();
            var m2 = t.trainStep();
            assertTrue(Double.isFinite(m1.loss()) && Double.isFinite(m2.loss()), m1 + " " + m2);
            // the student moved away from the checkpoint, the EMA teacher only a little
            float[] w0 = official.get("blocks.0.attn.qkv.weight").toFloatArray();
            float[] ws = t.student.backbone.stateDict().get("blocks.0.attn.qkv.weight").toFloatArray();
            double d = 0;
            for (int i = 0; i < w0.length; i++) d += Math.abs(ws[i] - w0[i]);
            assertTrue(d > 0, "student weights changed");
        }
    }

    @Test
    void aCheckpointOfAnotherShapeIsRefusedNamingTheFile(@TempDir Path dir) {
        SslConfig c = TinySsl.config();   // 32 wide: the 128-wide golden ViT cannot fit
        try (SslTrainer t = new SslTrainer(c, TinySsl.data(), null, dir)) {
            var e = assertThrows(IllegalArgumentException.class, () -> t.loadBackboneWeights(golden("vit_tiny.pth")));
            assertTrue(e.getMessage().contains("vit_tiny.pth") && e.getMessage().contains("cls_token"), e.getMessage());
        }
    }
}
