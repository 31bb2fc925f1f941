package dino4j.kernels;

/**
 * A 2-D axial RoPE table for an {@code h × w} patch grid (spec §1.6): {@code sin} and {@code cos} are
 * {@code [h*w, headDim]} row-major in the {@code A2 = concat(A, A)} layout, i.e. entry {@code i} and
 * {@code i + headDim/2} hold the same angle; within {@code A} the first {@code headDim/4} angles follow
 * the y coordinate and the next {@code headDim/4} the x coordinate. Same for every head.
 */
public record RopeTable(int h, int w, int headDim, float[] sin, float[] cos) {
    public RopeTable {
        if (h < 0 || w < 0 || headDim <= 0 || headDim % 4 != 0)
            throw new IllegalArgumentException("bad rope table shape h=" + h + " w=" + w + " headDim=" + headDim);
        if (sin.length != h * w * headDim || cos.length != h * w * headDim)
            throw new IllegalArgumentException("sin/cos must hold h*w*headDim = " + h * w * headDim + " values");
    }

    /** Number of token rows (= h*w patch tokens). */
    public int tokens() { return h * w; }
}
