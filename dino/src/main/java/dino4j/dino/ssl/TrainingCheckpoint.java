package dino4j.dino.ssl;

import dino4j.nn.Module;
import dino4j.nn.optim.AdamW;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The resumable state of an SSL run in one safetensors file: {@code student.*}, {@code teacher.*} (official
 * key names under those prefixes), {@code optimizer.*} (AdamW moments and step counts), and in the
 * metadata the step (= data position: batches are a pure function of seed and step), and the config.
 * Randomness inside a step is derived from (seed, step), so nothing else is needed to continue bit-for-bit.
 * Written atomically (temporary file + rename): a killed run loses at most the steps since the last save.
 */
public final class TrainingCheckpoint {
    private TrainingCheckpoint() {}

    public static final String FORMAT = "dino4j-ssl-checkpoint-v1";

    public record Loaded(long step, SslConfig config, Map<String, Tensor> student, Map<String, Tensor> teacher,
                         Map<String, Tensor> optimizer, Map<String, String> metadata) {}

    public static void save(Path file, SslConfig cfg, long step, Module student, Module teacher, AdamW opt,
                            Map<String, String> extraMeta) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        student.stateDict().forEach((k, v) -> t.put("student." + k, v));
        teacher.stateDict().forEach((k, v) -> t.put("teacher." + k, v));
        opt.stateDict().forEach((k, v) -> t.put("optimizer." + k, v));
        Map<String, String> meta = new LinkedHashMap<>(extraMeta);
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(step));
        meta.put("config", cfg.toJson());
        Safetensors.write(file, t, meta);
    }

    public static Loaded load(Path file) throws IOException {
        if (!Files.exists(file)) throw new IOException(file + ": no checkpoint to resume from");
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, String> meta = c.metadata();
        if (!FORMAT.equals(meta.get("format")))
            throw new IOException(file + ": not a dino4j SSL training checkpoint (format '" + meta.get("format") + "', expected " + FORMAT + ")");
        long step;
        SslConfig cfg;
        try {
            step = Long.parseLong(meta.get("step"));
            cfg = SslConfig.fromJson(meta.get("config"));
        } catch (RuntimeException e) {
            throw new IOException(file + ": corrupt checkpoint metadata: " + e.getMessage(), e);
        }
        Map<String, Tensor> s = new LinkedHashMap<>(), te = new LinkedHashMap<>(), o = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("student.")) s.put(k.substring(8), v);
            else if (k.startsWith("teacher.")) te.put(k.substring(8), v);
            else if (k.startsWith("optimizer.")) o.put(k.substring(10), v);
        });
        return new Loaded(step, cfg, s, te, o, meta);
    }
}
