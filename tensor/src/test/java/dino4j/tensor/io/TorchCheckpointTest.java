package dino4j.tensor.io;

import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class TorchCheckpointTest {
    static Path golden(String name) {
        String shared = System.getProperty("dino4j.shared", "/work/shared");
        Path p = Path.of(shared, "golden", name);
        return Files.exists(p) ? p : Path.of("/work/shared/golden", name);
    }

    @Test
    void officialPthEqualsTheSafetensorsCopy() throws IOException {
        Map<String, Tensor> pth = TorchCheckpoint.read(golden("vit_tiny.pth"));
        Map<String, Tensor> st = Safetensors.read(golden("vit_tiny_weights.safetensors")).tensors();
        assertEquals(java.util.List.copyOf(st.keySet()), java.util.List.copyOf(pth.keySet()), "same keys in the same (state_dict) order");
        for (var e : st.entrySet()) {
            Tensor a = pth.get(e.getKey()), b = e.getValue();
            assertArrayEquals(b.shape(), a.shape(), e.getKey());
            assertArrayEquals(b.to(DType.F64).toDoubleArray(), a.to(DType.F64).toDoubleArray(), 0.0, e.getKey());
        }
        assertArrayEquals(new int[]{16}, pth.get("rope_embed.periods").shape());
    }

    @Test
    void readsConvNeXtAndSwiGLUCheckpoints() throws IOException {
        Map<String, Tensor> cn = TorchCheckpoint.read(golden("convnext_tiny.pth"));
        assertTrue(cn.keySet().stream().anyMatch(k -> k.startsWith("stages.")), cn.keySet().toString());
        Map<String, Tensor> sw = TorchCheckpoint.read(golden("vit_tiny_swiglu.pth"));
        assertTrue(sw.containsKey("blocks.0.mlp.w1.weight"), sw.keySet().toString());
    }

    @Test
    void refusesCodeInAPickle(@TempDir Path dir) throws IOException {
        // GLOBAL 'os system', ('ls',), REDUCE: what a malicious "checkpoint" would do
        byte[] evil = {(byte) 0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n',
                'X', 2, 0, 0, 0, 'l', 's', (byte) 0x85, 'R', '.'};
        Path f = dir.resolve("evil.pth");
        try (OutputStream os = Files.newOutputStream(f); ZipOutputStream z = new ZipOutputStream(os)) {
            z.putNextEntry(new ZipEntry("evil/data.pkl"));
            z.write(evil);
            z.closeEntry();
        }
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(f));
        assertTrue(e.getMessage().contains("os.system") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void notAZipNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("garbage.pth");
        Files.write(f, "not a checkpoint".getBytes());
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(f));
        assertTrue(e.getMessage().contains("garbage.pth"), e.getMessage());
    }

    @Test
    void bf16StorageIsReadAndConverts(@TempDir Path dir) throws IOException {
        // a hand-built torch.save zip with one BFloat16 tensor [2,2] = 1, -2, 0.5, 3
        short[] bits = {0x3f80, (short) 0xc000, 0x3f00, 0x4040};
        byte[] data = new byte[8];
        for (int i = 0; i < 4; i++) { data[2 * i] = (byte) bits[i]; data[2 * i + 1] = (byte) (bits[i] >> 8); }
        java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
        p.writeBytes(new byte[]{(byte) 0x80, 2});
        p.writeBytes("ccollections\nOrderedDict\n)R(".getBytes());
        p.writeBytes(new byte[]{'X', 1, 0, 0, 0, 'w'});
        p.writeBytes("ctorch._utils\n_rebuild_tensor_v2\n((".getBytes());
        p.writeBytes(new byte[]{'X', 7, 0, 0, 0}); p.writeBytes("storage".getBytes());
        p.writeBytes("ctorch\nBFloat16Storage\n".getBytes());
        p.writeBytes(new byte[]{'X', 1, 0, 0, 0, '0', 'X', 3, 0, 0, 0, 'c', 'p', 'u', 'K', 4, 't', 'Q',
                'K', 0, 'K', 2, 'K', 2, (byte) 0x86, 'K', 2, 'K', 1, (byte) 0x86, (byte) 0x89,
                'c'});
        p.writeBytes("collections\nOrderedDict\n)Rt".getBytes());
        p.writeBytes(new byte[]{'R', 'u', '.'});
        Path f = dir.resolve("bf16.pth");
        try (OutputStream os = Files.newOutputStream(f); ZipOutputStream z = new ZipOutputStream(os)) {
            z.putNextEntry(new ZipEntry("bf16/data.pkl")); z.write(p.toByteArray()); z.closeEntry();
            z.putNextEntry(new ZipEntry("bf16/data/0")); z.write(data); z.closeEntry();
            z.putNextEntry(new ZipEntry("bf16/byteorder")); z.write("little".getBytes()); z.closeEntry();
        }
        Tensor w = TorchCheckpoint.read(f).get("w");
        assertEquals(DType.BF16, w.dtype());
        assertArrayEquals(new int[]{2, 2}, w.shape());
        assertEquals("[1.0, -2.0, 0.5, 3.0]", Arrays.toString(w.to(DType.F32).toFloatArray()));
    }
}
