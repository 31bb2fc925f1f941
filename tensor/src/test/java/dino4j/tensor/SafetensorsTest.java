package dino4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dino4j.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir Path dir;

    static Path shared() { return Path.of(System.getProperty("dino4j.shared", "/work/shared")); }

    @Test void roundTripAllDtypesWithMetadata() throws IOException {
        Random rng = new Random(5);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("f32", Tensor.randn(rng, DType.F32, 2, 3));
        m.put("f64", Tensor.randn(rng, DType.F64, 4));
        m.put("bf16", Tensor.randn(rng, DType.F32, 3, 2).to(DType.BF16));
        m.put("f16", Tensor.randn(rng, DType.F32, 5).to(DType.F16));
        m.put("i64", Tensor.ofLongs(new long[]{1, -2, Long.MAX_VALUE}, 3));
        m.put("bool", Tensor.ofBools(new boolean[]{true, false, true, true}, 2, 2));
        m.put("scalar", Tensor.scalar(7));
        m.put("strided", Tensor.randn(rng, 3, 4).transpose(0, 1));
        Path f = dir.resolve("x.safetensors");
        Safetensors.write(f, m, Map.of("format", "pt", "note", "hello"));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(Map.of("format", "pt", "note", "hello"), c.metadata());
        assertEquals(m.keySet(), c.tensors().keySet());
        for (var e : m.entrySet()) {
            Tensor a = e.getValue(), b = c.get(e.getKey());
            assertEquals(a.dtype(), b.dtype(), e.getKey());
            assertArrayEquals(a.shape(), b.shape(), e.getKey());
            for (int i = 0; i < a.numel(); i++) assertEquals(a.getFlat(i), b.getFlat(i), 0.0, e.getKey());
        }
        assertEquals(Long.MAX_VALUE, c.get("i64").storage().longs()[2]);
        assertThrows(IllegalArgumentException.class, () -> c.get("missing"));
        // no temp files left behind
        try (var s = Files.list(dir)) { assertEquals(1, s.count()); }
    }

    @Test void readsGoldenFiles() throws IOException {
        Path w = shared().resolve("golden/vit_tiny_weights.safetensors");
        Path h = shared().resolve("golden/heads_losses.safetensors");
        Assumptions.assumeTrue(Files.exists(w) && Files.exists(h), "golden files not present");
        Safetensors.Contents c = Safetensors.read(w);
        assertFalse(c.tensors().isEmpty());
        assertArrayEquals(new int[]{1, 1, 128}, c.get("cls_token").shape());
        assertEquals(DType.F32, c.get("cls_token").dtype());
        for (Tensor t : c.tensors().values()) for (int i = 0; i < Math.min(t.numel(), 16); i++) assertTrue(Double.isFinite(t.getFlat(i)));
        Safetensors.Contents hl = Safetensors.read(h);
        assertArrayEquals(new int[]{96, 128}, hl.get("head.mlp.0.weight").shape());
    }

    @Test void truncatedOrGarbageFilesThrowIOExceptionNamingTheFile() throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", Tensor.randn(new Random(1), 16, 16));
        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, m);
        byte[] bytes = Files.readAllBytes(good);

        Path trunc = dir.resolve("truncated.safetensors");
        Files.write(trunc, Arrays.copyOf(bytes, bytes.length - 100));
        IOException e1 = assertThrows(IOException.class, () -> Safetensors.read(trunc));
        assertTrue(e1.getMessage().contains("truncated.safetensors"), e1.getMessage());

        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[]{1, 2, 3});
        IOException e2 = assertThrows(IOException.class, () -> Safetensors.read(tiny));
        assertTrue(e2.getMessage().contains("tiny.safetensors"), e2.getMessage());

        Path garbage = dir.resolve("garbage.safetensors");
        byte[] g = new byte[64];
        new Random(3).nextBytes(g);
        Files.write(garbage, g);
        IOException e3 = assertThrows(IOException.class, () -> Safetensors.read(garbage));
        assertTrue(e3.getMessage().contains("garbage.safetensors"), e3.getMessage());

        Path badJson = dir.resolve("badjson.safetensors");
        byte[] hdr = "{not json!}".getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[8 + hdr.length];
        f[0] = (byte) hdr.length;
        System.arraycopy(hdr, 0, f, 8, hdr.length);
        Files.write(badJson, f);
        IOException e4 = assertThrows(IOException.class, () -> Safetensors.read(badJson));
        assertTrue(e4.getMessage().contains("badjson.safetensors"), e4.getMessage());

        Path missing = dir.resolve("missing.safetensors");
        IOException e5 = assertThrows(IOException.class, () -> Safetensors.read(missing));
        assertTrue(e5.getMessage().contains("missing.safetensors"), e5.getMessage());
    }
}
