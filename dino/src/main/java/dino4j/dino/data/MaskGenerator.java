package dino4j.dino.data;

import java.util.Random;

/**
 * iBOT block-wise mask sampling (spec §4.3; BEiT/DINOv2 {@code MaskingGenerator} + DINOv3 collate) on a
 * {@code gridH × gridW} patch grid (grid = global crop size / patch size).
 * <ol>
 *   <li>Per batch of M global crops: {@code nMasked = floor(M · sampleProbability)} crops (a fixed count)
 *       get a mask, the others an empty one.</li>
 *   <li>Stratified ratios {@code r_i = linspace(rMin, rMax, nMasked+1)[i+1]} (computed in float32 like
 *       torch.linspace) and target counts {@code T_i = int(P · r_i)} (float32 product, truncated).</li>
 *   <li>Block phase: while fewer than T are masked, up to 10 tries of a rectangle with area
 *       ~ U(minNumPatches, min(T − count, maxNumPatches)), aspect {@code exp(U(ln minAspect, ln 1/minAspect))},
 *       {@code h = round(sqrt(area·ar))}, {@code w = round(sqrt(area/ar))}, needing h < gridH and w < gridW,
 *       uniform top-left; accepted when the newly covered cells are in (0, T − count]; stop when a round
 *       adds nothing. Then top up with uniformly chosen unmasked cells to EXACTLY T.</li>
 *   <li>The M masks (masked and empty) are shuffled.</li>
 * </ol>
 * Masks are row-major {@code boolean[gridH·gridW]}, true = masked.
 */
public final class MaskGenerator {
    private final int gridH, gridW, numPatches, minNumPatches;
    private final double maxNumPatches, logAspectMin, logAspectMax;

    /** Reference defaults: min 4 patches per block, max block 0.5·P, aspect in (0.3, 1/0.3). */
    public MaskGenerator(int gridH, int gridW) { this(gridH, gridW, 4, 0.5 * gridH * gridW, 0.3); }

    public MaskGenerator(int gridH, int gridW, int minNumPatches, double maxNumPatches, double minAspect) {
        if (gridH <= 0 || gridW <= 0) throw new IllegalArgumentException("bad mask grid " + gridH + "×" + gridW);
        if (!(minAspect > 0)) throw new IllegalArgumentException("minAspect must be > 0");
        this.gridH = gridH;
        this.gridW = gridW;
        this.numPatches = gridH * gridW;
        this.minNumPatches = minNumPatches;
        this.maxNumPatches = maxNumPatches;
        double maxAspect = 1.0 / minAspect;
        this.logAspectMin = Math.log(minAspect);
        this.logAspectMax = Math.log(maxAspect);
    }

    public int gridH() { return gridH; }

    public int gridW() { return gridW; }

    public int numPatches() { return numPatches; }

    /** One mask with exactly {@code numMasking} true cells (block phase, then random top-up). */
    public boolean[] generate(Random rng, int numMasking) {
        if (numMasking < 0 || numMasking > numPatches)
            throw new IllegalArgumentException("cannot mask " + numMasking + " of " + numPatches + " patches");
        boolean[] mask = new boolean[numPatches];
        int count = 0;
        while (count < numMasking) {
            double maxMask = Math.min(numMasking - count, maxNumPatches);
            int delta = block(rng, mask, maxMask);
            if (delta == 0) break;
            count += delta;
        }
        if (count < numMasking) {
            int[] free = new int[numPatches - count];
            int n = 0;
            for (int i = 0; i < numPatches; i++) if (!mask[i]) free[n++] = i;
            for (int k = 0; k < numMasking - count; k++) { // partial Fisher–Yates
                int j = k + rng.nextInt(n - k);
                int t = free[k]; free[k] = free[j]; free[j] = t;
                mask[free[k]] = true;
            }
        }
        return mask;
    }

    private int block(Random rng, boolean[] mask, double maxMaskPatches) {
        int delta = 0;
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = minNumPatches + (maxMaskPatches - minNumPatches) * rng.nextDouble();
            double ar = Math.exp(logAspectMin + (logAspectMax - logAspectMin) * rng.nextDouble());
            int h = (int) Math.rint(Math.sqrt(targetArea * ar));
            int w = (int) Math.rint(Math.sqrt(targetArea / ar));
            if (w < gridW && h < gridH) {
                int top = rng.nextInt(gridH - h + 1);
                int left = rng.nextInt(gridW - w + 1);
                int already = 0;
                for (int i = top; i < top + h; i++)
                    for (int j = left; j < left + w; j++) if (mask[i * gridW + j]) already++;
                int fresh = h * w - already;
                if (0 < fresh && fresh <= maxMaskPatches) {
                    for (int i = top; i < top + h; i++)
                        for (int j = left; j < left + w; j++)
                            if (!mask[i * gridW + j]) { mask[i * gridW + j] = true; delta++; }
                }
                if (delta > 0) break;
            }
        }
        return delta;
    }

    /**
     * Target masked counts for one batch of {@code nCrops} global crops, in generation order (before the
     * shuffle): {@code floor(nCrops·sampleProbability)} entries {@code int(P · linspace(rMin, rMax, n+1)[i+1])}.
     */
    public static int[] maskedCounts(int nCrops, int numPatches, double sampleProbability, double ratioMin, double ratioMax) {
        int n = (int) (nCrops * sampleProbability);
        int[] out = new int[n];
        float[] probs = linspaceF32((float) ratioMin, (float) ratioMax, n + 1);
        for (int i = 0; i < n; i++) out[i] = (int) ((float) numPatches * probs[i + 1]);
        return out;
    }

    /** torch.linspace in float32 (CPU kernel: first half from start, second half from end). */
    static float[] linspaceF32(float start, float end, int steps) {
        float[] r = new float[steps];
        if (steps == 1) { r[0] = start; return r; }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) r[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        return r;
    }

    /** The masks of one batch of {@code nCrops} global crops (crop-major order of the caller), shuffled. */
    public boolean[][] sampleBatch(Random rng, int nCrops, double sampleProbability, double ratioMin, double ratioMax) {
        int[] counts = maskedCounts(nCrops, numPatches, sampleProbability, ratioMin, ratioMax);
        boolean[][] masks = new boolean[nCrops][];
        for (int i = 0; i < counts.length; i++) masks[i] = generate(rng, counts[i]);
        for (int i = counts.length; i < nCrops; i++) masks[i] = new boolean[numPatches];
        for (int i = nCrops - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            boolean[] t = masks[i]; masks[i] = masks[j]; masks[j] = t;
        }
        return masks;
    }

    /** Reference defaults: sample probability 0.5, ratios (0.1, 0.5). */
    public boolean[][] sampleBatch(Random rng, int nCrops) { return sampleBatch(rng, nCrops, 0.5, 0.1, 0.5); }

    public static int count(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) if (b) n++;
        return n;
    }
}
