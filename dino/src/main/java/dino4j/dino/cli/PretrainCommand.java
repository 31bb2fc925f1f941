package dino4j.dino.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;

/**
 * DINOv3 SSL pretraining (issue 4) is not built yet: this command says so plainly and points at what
 * runs today, instead of pretending.
 */
@Command(name = "pretrain", description = "DINOv3 self-supervised pretraining (not available yet: see README).")
final class PretrainCommand implements java.util.concurrent.Callable<Integer> {
    @Parameters(arity = "0..*", hidden = true) List<String> ignored;

    @Override public Integer call() {
        System.err.println("dino4j pretrain: SSL pretraining (DINO + iBOT + KoLeo, EMA teacher) is not implemented yet;");
        System.err.println("it is the next milestone (issue 4). What runs today, end to end on our own engine:");
        System.err.println("  ./dino4j fashion      supervised Fashion-MNIST training on tensors/autograd/kernels of dino4j");
        return 2;
    }
}
