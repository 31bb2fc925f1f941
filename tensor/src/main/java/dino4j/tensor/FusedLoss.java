package dino4j.tensor;

/**
 * A loss computed by one fused kernel family (KoLeo, Gram): its value and its own backward, which runs on
 * the backend that computed the forward, from the state that forward kept (normalised rows, neighbours, ...).
 */
public interface FusedLoss {
    /** The loss, a rank-0 tensor (on the device that computed it). */
    Tensor loss();

    /**
     * Gradients of {@code gLoss · loss} w.r.t. the inputs, in input order; an entry is null where
     * {@code needs[i]} is false.
     */
    Tensor[] backward(double gLoss, boolean... needs);

    /** A fused loss from its value and a backward closure over the forward's state ({@code (gLoss, needs) -> grads}). */
    static FusedLoss of(Tensor loss, java.util.function.BiFunction<Double, boolean[], Tensor[]> backward) {
        return new FusedLoss() {
            @Override public Tensor loss() { return loss; }
            @Override public Tensor[] backward(double gLoss, boolean... needs) { return backward.apply(gLoss, needs); }
        };
    }
}
