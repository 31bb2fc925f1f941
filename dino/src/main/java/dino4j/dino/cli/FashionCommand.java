package dino4j.dino.cli;

import dino4j.dino.demo.FashionMnistMlp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./dino4j fashion}: supervised Fashion-MNIST training on dino4j's own engine. */
@Command(name = "fashion", mixinStandardHelpOptions = true, description = "Train a GELU MLP on Fashion-MNIST end to end on dino4j's tensors, autograd and kernels.")
final class FashionCommand implements Callable<Integer> {
    @Option(names = "--data", description = "folder with the four IDX .gz files (default: ${DEFAULT-VALUE})")
    Path data = FashionMnistMlp.DEFAULT_DIR;
    @Option(names = "--epochs", description = "epochs (default: ${DEFAULT-VALUE})") int epochs = 3;
    @Option(names = "--batch", description = "batch size (default: ${DEFAULT-VALUE})") int batch = 128;
    @Option(names = "--hidden", description = "hidden width (default: ${DEFAULT-VALUE})") int hidden = 256;
    @Option(names = "--lr", description = "peak learning rate (default: ${DEFAULT-VALUE})") double lr = 1e-3;
    @Option(names = "--wd", description = "AdamW weight decay (default: ${DEFAULT-VALUE})") double wd = 1e-4;
    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})") long seed = 0;

    @Override public Integer call() throws Exception {
        if (epochs < 1 || batch < 1 || hidden < 1) throw new IllegalArgumentException("--epochs, --batch and --hidden must be positive");
        var r = FashionMnistMlp.train(new FashionMnistMlp.Options(data, epochs, batch, hidden, lr, wd, seed, true));
        System.out.printf("fashion-mnist mlp 784-%d-10: test accuracy %.2f %%, %.1f s, %.0f images/s, final loss %.4f%n",
                hidden, 100 * r.testAccuracy(), r.seconds(), r.imagesPerSecond(), r.finalLoss());
        return 0;
    }
}
