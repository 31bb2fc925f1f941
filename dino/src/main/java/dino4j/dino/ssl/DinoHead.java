package dino4j.dino.ssl;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.nn.Gelu;
import dino4j.nn.Init;
import dino4j.nn.Linear;
import dino4j.nn.Module;
import dino4j.nn.Sequential;

import java.util.Random;

/**
 * The DINO / iBOT projection head (spec §3.1, official {@code DINOHead}): an MLP
 * {@code mlp.0 = Linear(in, hidden), GELU, [Linear(hidden, hidden), GELU] × (nlayers − 2), Linear(hidden, bottleneck)}
 * (for nlayers = 3: {@code mlp.0/2/4}), the bottleneck L2-normalised ({@code x / max(‖x‖, 1e-12)}), then the
 * prototypes {@code last_layer = Linear(bottleneck, K)} without bias and without weight normalisation.
 * Linear weights trunc-normal std 0.02, biases 0.
 */
public class DinoHead extends Module {
    /** {@code F.normalize} eps of the bottleneck (1e-6 would be the fp16 value). */
    public static final double NORM_EPS = 1e-12;

    public final int inDim, hiddenDim, bottleneckDim, outDim, nlayers;
    public final Sequential mlp;
    public final Linear lastLayer;

    /** The default 3-layer head with MLP biases. */
    public DinoHead(int inDim, int outDim, int hiddenDim, int bottleneckDim, Random rng) {
        this(inDim, outDim, 3, hiddenDim, bottleneckDim, true, rng);
    }

    public DinoHead(int inDim, int outDim, int nlayers, int hiddenDim, int bottleneckDim, boolean mlpBias, Random rng) {
        this(inDim, outDim, nlayers, hiddenDim, bottleneckDim, mlpBias, 0.02, rng);
    }

    /**
     * @param prototypeStd trunc-normal std of the prototype weights (official: 0.02, like every Linear). With a
     *                     unit-norm bottleneck the initial logits have std ≈ prototypeStd, so 0.02 starts every
     *                     softmax near uniform; 1/√bottleneck starts at unit-norm rows (DINOv1/v2's weight norm).
     */
    public DinoHead(int inDim, int outDim, int nlayers, int hiddenDim, int bottleneckDim, boolean mlpBias,
                    double prototypeStd, Random rng) {
        if (nlayers < 1) throw new IllegalArgumentException("DinoHead: nlayers must be >= 1, got " + nlayers);
        this.inDim = inDim;
        this.outDim = outDim;
        this.nlayers = nlayers;
        this.hiddenDim = hiddenDim;
        this.bottleneckDim = bottleneckDim;
        Init w = Init.truncNormal(0.02);
        Sequential s = new Sequential();
        if (nlayers == 1) {
            s.add(new Linear(inDim, bottleneckDim, mlpBias, w, rng));
        } else {
            s.add(new Linear(inDim, hiddenDim, mlpBias, w, rng)).add(new Gelu());
            for (int i = 0; i < nlayers - 2; i++) s.add(new Linear(hiddenDim, hiddenDim, mlpBias, w, rng)).add(new Gelu());
            s.add(new Linear(hiddenDim, bottleneckDim, mlpBias, w, rng));
        }
        this.mlp = registerModule("mlp", s);
        this.lastLayer = registerModule("last_layer", new Linear(bottleneckDim, outDim, false, Init.truncNormal(prototypeStd), rng));
    }

    /** Prototype logits [..., K]. */
    @Override public Var forward(Var x) { return forward(x, false); }

    /** With {@code noLastLayer}: the L2-normalised bottleneck [..., bottleneck]; else the logits [..., K]. */
    public Var forward(Var x, boolean noLastLayer) {
        Var z = forwardBottleneck(x);
        return noLastLayer ? z : lastLayer.forward(z);
    }

    /** The MLP followed by the L2 normalisation (the official {@code no_last_layer=True} output). */
    public Var forwardBottleneck(Var x) {
        return F.l2Normalize(mlp.forward(x), NORM_EPS);
    }

    /** Only the prototype layer, on an already-normalised bottleneck (the official {@code only_last_layer=True}). */
    public Var forwardLastLayer(Var z) { return lastLayer.forward(z); }
}
