package dino4j.dino.features;

import com.google.gson.Gson;
import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Image;
import dino4j.dino.data.ImageFolderDataset;
import dino4j.dino.data.Progress;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Features;
import dino4j.tensor.DType;
import dino4j.tensor.StepArena;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import me.tongfei.progressbar.ProgressBar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Batched, no-grad {@code forward_features} over image files (§1.12–1.13). Images are decoded, resized to a
 * square (antialiased bilinear) or kept at their size with a bottom/right crop to a multiple of the patch size,
 * normalised, and grouped by (H, W) so a batch never mixes sizes. Each group keeps the files in input order.
 */
public final class Embedder {
    /** Options. {@code resize} ≤ 0 keeps the image size (the {@code none} rule). */
    public record Options(int resize, Preprocess.MeanStd meanStd, int batch, boolean prenorm, boolean progress) {
        public Options {
            if (batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1, got " + batch);
        }

        public static Options defaults() { return new Options(224, Preprocess.MeanStd.LVD, 16, false, false); }
    }

    /** The outputs of one (H, W) group, rows in {@code files} order; {@code prenorm} null unless requested. */
    public record Group(int height, int width, int gridH, int gridW, List<String> files,
                        Tensor cls, Tensor storage, Tensor patches, Tensor prenorm) {
        public String key() { return height + "x" + width; }
    }

    /** All groups (in order of first appearance), plus run statistics. */
    public record Result(List<Group> groups, int images, int dim, String model, Options options, double seconds) {}

    private final Backbone model;
    private final Options options;

    public Embedder(Backbone model, Options options) {
        this.model = model;
        this.options = options;
    }

    /** Parses {@code --resize}: a positive integer, or {@code none} (returned as 0). */
    public static int parseResize(String s) {
        if (s.equalsIgnoreCase("none")) return 0;
        try {
            int n = Integer.parseInt(s.trim());
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {}
        throw new IllegalArgumentException("--resize must be a positive size in pixels (e.g. 224) or 'none', got '" + s + "'");
    }

    /**
     * The image files named by {@code inputs}: files as given, directories walked recursively (files with an
     * {@link ImageFolderDataset#EXTENSIONS} extension, sorted by path).
     */
    public static List<Path> collect(List<Path> inputs) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isDirectory(in)) {
                List<Path> found;
                try (Stream<Path> s = Files.walk(in)) {
                    found = s.filter(Files::isRegularFile).filter(Embedder::isImageName).sorted().toList();
                }
                if (found.isEmpty()) throw new IOException(in + ": no images (" + String.join(", ", ImageFolderDataset.EXTENSIONS) + ") in this directory");
                out.addAll(found);
            } else if (Files.isRegularFile(in)) {
                out.add(in);
            } else {
                throw new IOException(in + ": no such file or directory");
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no input images given");
        return out;
    }

    private static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot >= 0 && ImageFolderDataset.EXTENSIONS.contains(n.substring(dot + 1));
    }

    /** The model-size image (not yet normalised): resized to N×N, or cropped to a multiple of the patch size. */
    public Image prepare(Image img) {
        img = img.toChannels(3);
        if (options.resize() > 0) img = Preprocess.resize(img, options.resize(), options.resize());
        return Preprocess.cropToMultiple(img, model.patchSize());
    }

    /** Reads and prepares one file; errors name the file. */
    public Image load(Path file) throws IOException {
        Image img = ImageFolderDataset.read(file);
        try {
            return prepare(img);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Features of one normalised batch [B, 3, H, W], without recording a graph. */
    public Features forward(Tensor batch) {
        try (var g = Grad.noGrad()) {
            return model.forwardFeatures(Var.constant(batch));
        }
    }

    private static final class Acc {
        final int h, w;
        int gridH = -1, gridW = -1, r = -1, n = -1, t = -1;
        final List<String> files = new ArrayList<>();
        final List<Image> pending = new ArrayList<>();
        final List<String> pendingNames = new ArrayList<>();
        final List<float[]> cls = new ArrayList<>(), storage = new ArrayList<>(), patches = new ArrayList<>(), prenorm = new ArrayList<>();

        Acc(int h, int w) { this.h = h; this.w = w; }
    }

    /** Embeds the files (see {@link #collect}); outputs are F32. */
    public Result embed(List<Path> files) throws IOException {
        long t0 = System.nanoTime();
        Map<String, Acc> groups = new LinkedHashMap<>();
        try (ProgressBar pb = options.progress() ? Progress.bar("embed", files.size(), 250).setUnit(" img", 1).build() : null) {
            for (Path f : files) {
                Image img = load(f);
                Acc a = groups.computeIfAbsent(img.h() + "x" + img.w(), k -> new Acc(img.h(), img.w()));
                a.pending.add(img);
                a.pendingNames.add(f.toString());
                if (a.pending.size() >= options.batch()) flush(a, pb);
            }
            for (Acc a : groups.values()) if (!a.pending.isEmpty()) flush(a, pb);
        }
        List<Group> out = new ArrayList<>();
        for (Acc a : groups.values()) {
            int b = a.files.size(), d = model.embedDim();
            out.add(new Group(a.h, a.w, a.gridH, a.gridW, List.copyOf(a.files),
                    Tensor.of(concat(a.cls), b, d), a.r == 0 ? emptyTokens(b, d) : Tensor.of(concat(a.storage), b, a.r, d), Tensor.of(concat(a.patches), b, a.n, d),
                    options.prenorm() ? Tensor.of(concat(a.prenorm), b, a.t, d) : null));
        }
        return new Result(out, files.size(), model.embedDim(), model.describe(), options, (System.nanoTime() - t0) / 1e9);
    }

    private void flush(Acc a, ProgressBar pb) {
        // the arena hands the batch's activations back when it closes (on a GPU the GC alone would let
        // them pile up for many batches); what we keep is copied out first
        try (var arena = StepArena.open("embed batch")) {
            Features f = forward(Preprocess.toBatch(a.pending, options.meanStd()));
            a.gridH = f.gridH();
            a.gridW = f.gridW();
            a.r = f.storageTokens().size(1);
            a.n = f.patchTokens().size(1);
            a.t = f.prenorm().size(1);
            a.cls.add(f32(f.clsToken().data()));
            a.storage.add(f32(f.storageTokens().data()));
            a.patches.add(f32(f.patchTokens().data()));
            if (options.prenorm()) a.prenorm.add(f32(f.prenorm().data()));
        }
        a.files.addAll(a.pendingNames);
        if (pb != null) pb.stepBy(a.pending.size());
        a.pending.clear();
        a.pendingNames.clear();
    }

    /**
     * Writes the result as safetensors: {@code x_norm_clstoken} [B, D], {@code x_storage_tokens} [B, R, D],
     * {@code x_norm_patchtokens} [B, h·w, D] (+ {@code x_prenorm}); with several size groups every key is prefixed
     * {@code "HxW/"}. Metadata: {@code files} (JSON list; per group {@code "HxW/files"} when grouped), {@code groups}
     * (JSON list of "HxW"), per-group {@code grid} ("h x w" tokens), {@code model}, {@code resize}, {@code mean_std}.
     */
    public static void write(Result r, Path out) throws IOException {
        Gson gson = new Gson();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("model", r.model());
        meta.put("resize", r.options().resize() > 0 ? Integer.toString(r.options().resize()) : "none");
        meta.put("mean_std", r.options().meanStd().name());
        meta.put("groups", gson.toJson(r.groups().stream().map(Group::key).toList()));
        boolean prefixed = r.groups().size() > 1;
        for (Group g : r.groups()) {
            String p = prefixed ? g.key() + "/" : "";
            tensors.put(p + Features.CLS, g.cls());
            tensors.put(p + Features.STORAGE, g.storage());
            tensors.put(p + Features.PATCH, g.patches());
            if (g.prenorm() != null) tensors.put(p + Features.PRENORM, g.prenorm());
            meta.put(p + "files", gson.toJson(g.files()));
            meta.put(p + "grid", gson.toJson(List.of(g.gridH(), g.gridW())));
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Safetensors.write(out, tensors, meta);
    }

    /**
     * [b, 0, d] (ConvNeXt has no storage tokens). Built as an expanded [1, 0, d] so that its strides pass
     * Tensor.isContiguous, which a plain zero-size tensor currently fails (Safetensors.write would throw).
     */
    static Tensor emptyTokens(int b, int d) {
        return Tensor.zeros(DType.F32, 1, 0, d).expand(b, 0, d);
    }

    /** A copy (never the tensor's own array, which the batch's arena may recycle). */
    private static float[] f32(Tensor t) {
        return t.numel() == 0 ? new float[0] : t.toFloatArray();   // ConvNeXt: no storage tokens (contiguous() rejects empty views)
    }

    private static float[] concat(List<float[]> parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int o = 0;
        for (float[] p : parts) { System.arraycopy(p, 0, out, o, p.length); o += p.length; }
        return out;
    }
}
