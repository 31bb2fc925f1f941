package dino4j.dino.ssl;

import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ResumeTest {
    static void assertSameState(Map<String, Tensor> a, Map<String, Tensor> b, String what) {
        assertEquals(a.keySet(), b.keySet(), what + " keys");
        for (String k : a.keySet())
            assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), 0f, what + " " + k + " differs");
    }

    @Test
    void resumedRunIsBitIdenticalToAStraightRun(@TempDir Path dir) throws Exception {
        SslConfig cfg = TinySsl.config();
        List<Double> straightLosses = new ArrayList<>();
        Map<String, Tensor> straightStudent, straightTeacher;
        try (SslTrainer t = new SslTrainer(cfg, TinySsl.data(), null, dir.resolve("a"))) {
            t.run(cfg.steps, m -> straightLosses.add(m.loss()));
            straightStudent = t.student.stateDict();
            straightTeacher = t.teacher.stateDict();
        }
        assertTrue(straightLosses.stream().allMatch(Double::isFinite), straightLosses.toString());

        List<Double> resumedLosses = new ArrayList<>();
        Path b = dir.resolve("b");
        try (SslTrainer t = new SslTrainer(TinySsl.config(), TinySsl.data(), null, b)) {
            t.run(5, m -> resumedLosses.add(m.loss()));
            t.saveCheckpoint();
        }
        try (SslTrainer t = new SslTrainer(TinySsl.config(), TinySsl.data(), null, b)) {
            var ck = TrainingCheckpoint.load(b.resolve("checkpoints/last.safetensors"));
            assertEquals(5, ck.step());
            t.restore(ck);
            t.run(cfg.steps, m -> resumedLosses.add(m.loss()));
            assertEquals(straightLosses, resumedLosses, "loss curve after resume");
            assertSameState(straightStudent, t.student.stateDict(), "student");
            assertSameState(straightTeacher, t.teacher.stateDict(), "teacher");
        }
    }

    @Test
    void resumedRunKeepsItsClockAndDropsTheMetricsOfRepeatedSteps(@TempDir Path dir) throws Exception {
        double savedMinutes;
        try (SslTrainer t = new SslTrainer(TinySsl.config(), TinySsl.data(), null, dir)) {
            t.run(3, m -> { });
            t.saveCheckpoint();
            savedMinutes = t.minutesElapsed();
            // a process that went on past its checkpoint before it was killed
            for (int s = 1; s <= 5; s++) {
                var o = new com.google.gson.JsonObject();
                o.addProperty("step", s);
                if (s == 4) o.addProperty("knn_top1", 0.5);
                t.logMetrics(o);
            }
        }
        var ck = TrainingCheckpoint.load(dir.resolve("checkpoints/last.safetensors"));
        double recorded = Double.parseDouble(ck.metadata().get("minutes"));
        assertTrue(recorded > 0 && recorded <= savedMinutes, recorded + " vs " + savedMinutes);
        try (SslTrainer t = new SslTrainer(TinySsl.config(), TinySsl.data(), null, dir)) {
            t.restore(ck);
            assertTrue(t.minutesElapsed() >= recorded, "the resumed run's minutes go on from " + recorded + ", got " + t.minutesElapsed());
            List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
            assertEquals(List.of("{\"step\":1}", "{\"step\":2}", "{\"step\":3}"), lines, "steps after the checkpoint are run again");
            try (var files = Files.list(dir)) {
                assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList(), "temporary files left");
            }
        }
    }

    @Test
    void killedRunsResumeFromTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        long target = 10;
        java.util.Random r = new java.util.Random(11);
        long lastSaved = 0;
        for (int attempt = 0; attempt < 8 && lastSaved < target; attempt++) {
            Process p = new ProcessBuilder(javaBin(), "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    TinySsl.class.getName(), out.toString(), Long.toString(target)).redirectErrorStream(true).start();
            // kill at a random moment: often in the middle of writing a checkpoint (one is written every step)
            long killAfterMs = 1500 + r.nextInt(2500);
            List<String> lines = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader br = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
                    for (String l; (l = br.readLine()) != null; ) synchronized (lines) { lines.add(l); }
                } catch (Exception ignored) { }
            });
            reader.start();
            if (!p.waitFor(killAfterMs, TimeUnit.MILLISECONDS)) p.destroyForcibly().waitFor();
            reader.join(5000);
            Path ck = out.resolve("checkpoints/last.safetensors");
            if (Files.exists(ck)) {
                long step = TrainingCheckpoint.load(ck).step();   // must always parse: writes are atomic
                assertTrue(step >= lastSaved, "checkpoint went backwards: " + step + " < " + lastSaved);
                lastSaved = step;
            }
            synchronized (lines) {
                assertTrue(lines.stream().noneMatch(l -> l.contains("Exception")), String.join("\n", lines));
            }
        }
        // finish without interruption; the run must end at the target
        Process p = new ProcessBuilder(javaBin(), "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                TinySsl.class.getName(), out.toString(), Long.toString(target)).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        assertEquals(target, TrainingCheckpoint.load(out.resolve("checkpoints/last.safetensors")).step());
        try (var files = Files.list(out.resolve("checkpoints"))) {
            assertEquals(List.of("last.safetensors"), files.map(f -> f.getFileName().toString()).filter(n -> !n.endsWith(".tmp")).toList());
        }
    }

    static String javaBin() { return Path.of(System.getProperty("java.home"), "bin", "java").toString(); }
}
