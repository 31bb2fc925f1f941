package dino4j.dino.cli;

import dino4j.dino.features.Embedder;
import dino4j.dino.features.Preprocess;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code dino4j embed}: forward_features of image files into a safetensors file. */
@Command(name = "embed", mixinStandardHelpOptions = true, description = "Embed images with a DINOv3 backbone (ViT or ConvNeXt): writes x_norm_clstoken [B,D], x_storage_tokens [B,R,D], x_norm_patchtokens [B,h*w,D] (and x_prenorm with --prenorm) to a safetensors file, file names in its metadata. Images of different sizes (--resize none) go to separate groups whose keys are prefixed 'HxW/'.")
final class EmbedCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "checkpoint: official .pth, .safetensors or a Hugging Face folder")
    Path weights;
    @Option(names = "--model", description = "architecture preset (e.g. vits16, convnext_tiny); inferred from the keys when omitted")
    String model;
    @Option(names = "--resize", defaultValue = "224", description = "square side N (antialiased bilinear), or 'none' to keep the size "
            + "(cropped bottom/right to a multiple of the patch size). Default: ${DEFAULT-VALUE}")
    String resize;
    @Option(names = "--mean-std", defaultValue = "lvd", description = "normalisation: lvd (web images) or sat (satellite). Default: ${DEFAULT-VALUE}")
    String meanStd;
    @Option(names = "--batch", defaultValue = "16", description = "images per forward pass. Default: ${DEFAULT-VALUE}")
    int batch;
    @Option(names = "--prenorm", description = "also write x_prenorm [B, 1+R+h*w, D]")
    boolean prenorm;
    @Option(names = "--out", defaultValue = "embeddings.safetensors", description = "output file. Default: ${DEFAULT-VALUE}")
    Path out;
    @Option(names = "--device", defaultValue = "auto", description = "auto (the GPU when CUDA and our kernels are there), cpu or cuda. Default: ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;
    @Parameters(arity = "1..*", paramLabel = "IMAGE_OR_DIR", description = "image files and/or folders (searched recursively, sorted)")
    List<Path> inputs;

    @Override public Integer call() throws Exception {
        int size = Embedder.parseResize(resize);                       // option errors before any heavy work
        Preprocess.MeanStd ms = Preprocess.MeanStd.parse(meanStd);
        if (!Files.exists(weights)) throw new java.io.FileNotFoundException("weights not found: " + weights);
        List<Path> files = Embedder.collect(inputs);
        Backbone backbone = Checkpoints.loadBackbone(weights, model);
        DeviceChoice.place(backbone, device);
        Embedder.Options o = new Embedder.Options(size, ms, batch, prenorm, !noProgress);
        Embedder.Result r = new Embedder(backbone, o).embed(files);
        Embedder.write(r, out);
        StringBuilder g = new StringBuilder();
        for (Embedder.Group gr : r.groups()) g.append(g.isEmpty() ? "" : ", ").append(gr.key()).append(":").append(gr.files().size());
        System.out.println(String.format(Locale.ROOT, "embedded %d images in %d group%s (%s) with %s: D=%d; %.2f s, %.2f images/s -> %s",
                r.images(), r.groups().size(), r.groups().size() == 1 ? "" : "s", g, backbone.describe(), r.dim(),
                r.seconds(), r.images() / Math.max(r.seconds(), 1e-9), out));
        return 0;
    }
}
