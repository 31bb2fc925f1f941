package dino4j.dino.cli;

import dino4j.dino.data.Augment;
import dino4j.dino.data.DatasetPaths;
import dino4j.dino.data.Image;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.data.MultiCrop;
import dino4j.dino.ssl.HeadProbe;
import dino4j.dino.ssl.SslConfig;
import dino4j.dino.ssl.SslModel;
import dino4j.dino.ssl.TrainingCheckpoint;
import dino4j.tensor.Tensor;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.Callable;

/** {@code dino4j heads}: whether a pretrain run's teacher heads give the student a signal (see {@link HeadProbe}). */
@Command(name = "heads", mixinStandardHelpOptions = true, description = {"Health of a pretrain run's DINO and iBOT heads: feature diversity and the entropy of the",
        "teacher's Sinkhorn-Knopp targets on a batch of images (uniform targets = the head gives no signal; the DINO",
        "loss then stays at ln K). Reads a pretrain checkpoint, or a new model's initialisation with --init."})
final class HeadsCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = "--weights", description = "a pretrain checkpoint (runs/X/checkpoints/last.safetensors): its teacher is probed") Path weights;
        @Option(names = "--init", description = "probe a new vit-fashion SSL model as `pretrain` would initialise it") boolean init;
    }

    @ArgGroup(multiplicity = "1") Source source;
    @Option(names = "--layerscale", paramLabel = "G", description = "with --init: LayerScale init (default: 1e-5)") Double layerScale;
    @Option(names = "--prototype-std", paramLabel = "STD", description = "with --init: prototype init std (default: 0.02)") Double prototypeStd;
    @Option(names = "--data", paramLabel = "PATH", description = "images (folder or IDX; default: the bundled Fashion-MNIST subset)") Path data;
    @Option(names = "--images", description = "how many images (default: ${DEFAULT-VALUE})") int images = 256;
    @Option(names = "--teacher-temp", paramLabel = "T", description = "Sinkhorn-Knopp temperature (default: the run's starting teacher temperature)") Double teacherTemp;

    @Override public Integer call() throws Exception {
        if (images < 2) throw new IllegalArgumentException("--images must be at least 2, got " + images);
        if (source.weights != null && (layerScale != null || prototypeStd != null))
            throw new IllegalArgumentException("--layerscale / --prototype-std apply to --init only; a checkpoint brings its own weights");
        SslConfig cfg;
        SslModel model;
        String what;
        if (source.init) {
            cfg = new SslConfig();
            if (layerScale != null) cfg.vit = cfg.vit.withLayerScaleInit(layerScale);
            if (prototypeStd != null) cfg.prototypeInitStd = prototypeStd;
            model = new SslModel(cfg, new Random(cfg.seed));
            what = "a new model (LayerScale " + cfg.vit.layerScaleInit() + ", prototype std " + cfg.prototypeInitStd + ")";
        } else {
            TrainingCheckpoint.Loaded ck = TrainingCheckpoint.load(source.weights);
            cfg = ck.config();
            model = new SslModel(cfg, new Random(0));
            try {
                model.loadStateDict(ck.teacher(), true);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source.weights + ": the teacher does not fit its own config: " + e.getMessage(), e);
            }
            what = "the teacher of " + source.weights + " at step " + ck.step();
        }
        ImageDataset ds = DatasetPaths.openTrain(data != null ? data : DatasetPaths.bundledFashion());
        int n = Math.min(images, ds.size()), s = cfg.globalSize, per = 3 * s * s;
        float[] x = new float[n * per];
        for (int i = 0; i < n; i++) {
            Image im = ds.get(i);
            if (im.h() != s || im.w() != s) im = Augment.resize(im, s, s);
            im = Augment.normalize(im.toChannels(3), MultiCrop.Config.IMAGENET_MEAN, MultiCrop.Config.IMAGENET_STD);
            System.arraycopy(im.chw(), 0, x, i * per, per);
        }
        double t = teacherTemp != null ? teacherTemp : cfg.teacherTempStart;
        if (!(t > 0)) throw new IllegalArgumentException("--teacher-temp must be positive, got " + t);
        System.out.println("heads of " + what + ", " + n + " images at " + s + " px");
        System.out.println(HeadProbe.probe(model, Tensor.of(x, n, 3, s, s), t).format());
        return 0;
    }
}
