package dino4j.dino.data;

/**
 * One image as planar float CHW ({@code chw[(ch·h + y)·w + x]}), values in [0, 1] before normalisation.
 * The array is owned by the record; the augmentation functions never modify their input in place.
 */
public record Image(float[] chw, int c, int h, int w) {
    public Image {
        if (c <= 0 || h <= 0 || w <= 0) throw new IllegalArgumentException("bad image shape c=" + c + " h=" + h + " w=" + w);
        if (chw == null || chw.length != c * h * w)
            throw new IllegalArgumentException("image data length " + (chw == null ? "null" : chw.length) + " != c·h·w = " + (c * h * w));
    }

    public static Image zeros(int c, int h, int w) { return new Image(new float[c * h * w], c, h, w); }

    public float get(int ch, int y, int x) { return chw[(ch * h + y) * w + x]; }

    public int planeSize() { return h * w; }

    public Image copy() { return new Image(chw.clone(), c, h, w); }

    /** 1-channel image replicated to {@code channels} (3 for RGB); other images returned as they are. */
    public Image toChannels(int channels) {
        if (c == channels) return this;
        if (c != 1) throw new IllegalArgumentException("cannot convert a " + c + "-channel image to " + channels + " channels");
        int p = h * w;
        float[] out = new float[channels * p];
        for (int k = 0; k < channels; k++) System.arraycopy(chw, 0, out, k * p, p);
        return new Image(out, channels, h, w);
    }
}
