package dino4j.dino.features;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Image;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Checkpoints;
import dino4j.dino.model.ConvNeXt;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.dino.model.Features;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class EmbedderTest {
    static Backbone vit;

    @BeforeAll
    static void load() throws IOException {
        vit = Checkpoints.loadBackbone(TestImages.golden("vit_tiny_weights.safetensors"), null);
    }

    @TempDir Path tmp;

    /** a (40×72 → 32×64), sub/c (37×70 → 32×64), b (50×50 → 48×48), plus a non-image file that is skipped. */
    private Path folder() throws IOException {
        Path dir = tmp.resolve("imgs");
        TestImages.png(dir, "a.png", 72, 40, 1);
        TestImages.png(dir, "b.png", 50, 50, 2);
        TestImages.png(dir, "sub/c.png", 70, 37, 3);
        Files.writeString(dir.resolve("notes.txt"), "not an image");
        return dir;
    }

    private static double maxAbsDiff(Tensor a, Tensor b) {
        assertArrayEquals(a.shape(), b.shape());
        double[] x = a.to(DType.F64).contiguous().toDoubleArray(), y = b.to(DType.F64).contiguous().toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    @Test
    void backboneDetection() throws IOException {
        assertInstanceOf(DinoVisionTransformer.class, vit);
        assertEquals(128, vit.embedDim());
        assertEquals(16, vit.patchSize());
        Backbone cnx = Checkpoints.loadBackbone(TestImages.golden("convnext_tiny.pth"), null);
        assertInstanceOf(ConvNeXt.class, cnx);
        assertEquals(64, cnx.embedDim());
        assertEquals(32, cnx.patchSize());
        assertTrue(cnx.describe().contains("ConvNeXt"), cnx.describe());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoints.loadBackbone(TestImages.golden("vit_tiny_weights.safetensors"), "nonsense"));
        assertTrue(e.getMessage().contains("unknown model 'nonsense'"), e.getMessage());
    }

    @Test
    void noneResizeGroupsBySizeAndMatchesDirectForward() throws IOException {
        Path dir = folder();
        List<Path> files = Embedder.collect(List.of(dir));
        assertEquals(List.of(dir.resolve("a.png"), dir.resolve("b.png"), dir.resolve("sub/c.png")), files);
        Embedder emb = new Embedder(vit, new Embedder.Options(0, Preprocess.MeanStd.LVD, 4, true, false));
        Embedder.Result r = emb.embed(files);
        assertEquals(3, r.images());
        assertEquals(2, r.groups().size());
        Embedder.Group g0 = r.groups().get(0), g1 = r.groups().get(1);
        assertEquals("32x64", g0.key());
        assertEquals("48x48", g1.key());
        assertEquals(List.of(dir.resolve("a.png").toString(), dir.resolve("sub/c.png").toString()), g0.files());
        assertArrayEquals(new int[]{2, 128}, g0.cls().shape());
        assertArrayEquals(new int[]{2, 4, 128}, g0.storage().shape());
        assertArrayEquals(new int[]{2, 8, 128}, g0.patches().shape());
        assertArrayEquals(new int[]{2, 1 + 4 + 8, 128}, g0.prenorm().shape());
        assertArrayEquals(new int[]{1, 9, 128}, g1.patches().shape());

        // row 1 of the 32x64 group (sub/c.png, batched with a.png) equals a direct forward of that image alone
        Image c = emb.load(dir.resolve("sub/c.png"));
        assertEquals(32, c.h());
        assertEquals(64, c.w());
        Features f;
        try (var g = Grad.noGrad()) {
            f = vit.forwardFeatures(Var.constant(Preprocess.toBatch(List.of(c), Preprocess.MeanStd.LVD)));
        }
        assertTrue(maxAbsDiff(g0.cls().slice(0, 1, 2), f.clsToken().data()) < 1e-4);
        assertTrue(maxAbsDiff(g0.storage().slice(0, 1, 2), f.storageTokens().data()) < 1e-4);
        assertTrue(maxAbsDiff(g0.patches().slice(0, 1, 2), f.patchTokens().data()) < 1e-4);
        assertTrue(maxAbsDiff(g0.prenorm().slice(0, 1, 2), f.prenorm().data()) < 1e-4);

        Path out = tmp.resolve("e.safetensors");
        Embedder.write(r, out);
        Safetensors.Contents sc = Safetensors.read(out);
        assertEquals(List.of("32x64/x_norm_clstoken", "32x64/x_storage_tokens", "32x64/x_norm_patchtokens", "32x64/x_prenorm",
                "48x48/x_norm_clstoken", "48x48/x_storage_tokens", "48x48/x_norm_patchtokens", "48x48/x_prenorm"),
                sc.tensors().keySet().stream().toList());
        assertEquals("[\"32x64\",\"48x48\"]", sc.metadata().get("groups"));
        assertTrue(sc.metadata().get("32x64/files").contains("a.png") && sc.metadata().get("32x64/files").contains("c.png"));
        assertTrue(sc.metadata().get("48x48/files").contains("b.png"));
        assertEquals("none", sc.metadata().get("resize"));
        assertEquals(0, maxAbsDiff(sc.get("32x64/x_norm_patchtokens"), g0.patches()));
    }

    @Test
    void squareResizeIsOneGroupWithPlainKeys() throws IOException {
        Path dir = folder();
        Embedder.Result r = new Embedder(vit, new Embedder.Options(64, Preprocess.MeanStd.SAT, 2, false, false)).embed(Embedder.collect(List.of(dir)));
        assertEquals(1, r.groups().size());
        Embedder.Group g = r.groups().get(0);
        assertEquals("64x64", g.key());
        assertEquals(4, g.gridH());
        assertNull(g.prenorm());
        Path out = tmp.resolve("e.safetensors");
        Embedder.write(r, out);
        Safetensors.Contents sc = Safetensors.read(out);
        assertEquals(List.of(Features.CLS, Features.STORAGE, Features.PATCH), sc.tensors().keySet().stream().toList());
        assertArrayEquals(new int[]{3, 128}, sc.get(Features.CLS).shape());
        assertArrayEquals(new int[]{3, 4, 128}, sc.get(Features.STORAGE).shape());
        assertArrayEquals(new int[]{3, 16, 128}, sc.get(Features.PATCH).shape());
        assertEquals("[\"" + dir.resolve("a.png") + "\",\"" + dir.resolve("b.png") + "\",\"" + dir.resolve("sub/c.png") + "\"]",
                sc.metadata().get("files"));
        assertEquals("sat", sc.metadata().get("mean_std"));
    }

    @Test
    void convNeXtHasEmptyStorageTokens() throws IOException {
        Backbone cnx = Checkpoints.loadBackbone(TestImages.golden("convnext_tiny.pth"), null);
        Path a = TestImages.png(tmp, "a.png", 80, 70, 1);
        Embedder.Result r = new Embedder(cnx, new Embedder.Options(0, Preprocess.MeanStd.LVD, 2, false, false)).embed(List.of(a));
        Embedder.Group g = r.groups().get(0);
        assertEquals("64x64", g.key());                       // cropped to a multiple of the stride 32
        assertArrayEquals(new int[]{1, 0, 64}, g.storage().shape());
        assertArrayEquals(new int[]{1, 4, 64}, g.patches().shape());
        Path out = tmp.resolve("c.safetensors");
        Embedder.write(r, out);
        assertArrayEquals(new int[]{1, 0, 64}, Safetensors.read(out).get(Features.STORAGE).shape());
    }

    @Test
    void cropRuleKeepsTopLeft() {
        Image img = TestImages.image(70, 37, 5);
        Image c = Preprocess.cropToMultiple(img, 16);
        assertEquals(32, c.h());
        assertEquals(64, c.w());
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 32; y += 7)
                for (int x = 0; x < 64; x += 5) assertEquals(img.get(ch, y, x), c.get(ch, y, x));
        assertSame(c, Preprocess.cropToMultiple(c, 16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preprocess.cropToMultiple(TestImages.image(40, 12, 1), 16));
        assertTrue(e.getMessage().contains("smaller than one 16x16 patch"), e.getMessage());
    }

    @Test
    void errorsNameTheProblem() throws IOException {
        assertEquals(0, Embedder.parseResize("none"));
        assertEquals(224, Embedder.parseResize("224"));
        for (String bad : List.of("abc", "0", "-3", "22.4"))
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Embedder.parseResize(bad)).getMessage().contains("'" + bad + "'"));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.MeanStd.parse("imagenet21k"));

        Path bad = tmp.resolve("broken.png");
        Files.writeString(bad, "definitely not a png");
        Embedder emb = new Embedder(vit, Embedder.Options.defaults());
        IOException io = assertThrows(IOException.class, () -> emb.embed(List.of(bad)));
        assertTrue(io.getMessage().contains("broken.png"), io.getMessage());

        Path tinyImg = TestImages.png(tmp, "tiny.png", 10, 30, 1);
        Embedder none = new Embedder(vit, new Embedder.Options(0, Preprocess.MeanStd.LVD, 1, false, false));
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> none.embed(List.of(tinyImg)));
        assertTrue(small.getMessage().contains("tiny.png") && small.getMessage().contains("smaller than one"), small.getMessage());

        IOException missing = assertThrows(IOException.class, () -> Embedder.collect(List.of(tmp.resolve("nope"))));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThrows(IOException.class, () -> Embedder.collect(List.of(empty)));
    }
}
