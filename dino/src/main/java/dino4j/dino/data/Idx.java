package dino4j.dino.data;

import dino4j.tensor.Tensor;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * IDX files (MNIST / Fashion-MNIST), raw or gzip-compressed (detected from the magic bytes): unsigned-byte
 * labels (magic 0x00000801) and images (0x00000803). Errors name the file.
 */
public final class Idx {
    private Idx() {}

    public static final int LABELS_MAGIC = 0x00000801, IMAGES_MAGIC = 0x00000803;

    /** {@code n} images of {@code rows × cols} pixels, scaled to [0, 1], one float[rows·cols] per image. */
    public record Images(int n, int rows, int cols, float[][] pixels) {
        public int pixelsPerImage() { return rows * cols; }

        /** All images as one F32 tensor [n, rows·cols] (copied). */
        public Tensor tensor() { return rows(0, n); }

        /** Images [from, to) as an F32 tensor [to−from, rows·cols]. */
        public Tensor rows(int from, int to) {
            int d = rows * cols;
            float[] out = new float[(to - from) * d];
            for (int i = from; i < to; i++) System.arraycopy(pixels[i], 0, out, (i - from) * d, d);
            return Tensor.of(out, to - from, d);
        }

        /** The images at the given indices as an F32 tensor [idx.length, rows·cols]. */
        public Tensor gather(int[] idx) {
            int d = rows * cols;
            float[] out = new float[idx.length * d];
            for (int i = 0; i < idx.length; i++) System.arraycopy(pixels[idx[i]], 0, out, i * d, d);
            return Tensor.of(out, idx.length, d);
        }
    }

    public static Images readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != IMAGES_MAGIC)
                throw new IOException(file + ": not an IDX image file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
            int n = in.readInt(), rows = in.readInt(), cols = in.readInt();
            if (n < 0 || rows <= 0 || cols <= 0 || (long) rows * cols > 1 << 24)
                throw new IOException(file + ": implausible IDX image header n=" + n + " rows=" + rows + " cols=" + cols);
            int d = rows * cols;
            float[][] px = new float[n][d];
            byte[] buf = new byte[d];
            for (int i = 0; i < n; i++) {
                try {
                    in.readFully(buf);
                } catch (EOFException e) {
                    throw new IOException(file + ": truncated: header says " + n + " images, data ends in image " + i, e);
                }
                float[] row = px[i];
                for (int j = 0; j < d; j++) row[j] = (buf[j] & 0xff) / 255f;
            }
            return new Images(n, rows, cols, px);
        }
    }

    public static int[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != LABELS_MAGIC)
                throw new IOException(file + ": not an IDX label file (magic 0x" + Integer.toHexString(magic) + ", expected 0x801)");
            int n = in.readInt();
            if (n < 0) throw new IOException(file + ": negative label count " + n);
            byte[] b = new byte[n];
            try {
                in.readFully(b);
            } catch (EOFException e) {
                throw new IOException(file + ": truncated: header says " + n + " labels", e);
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) out[i] = b[i] & 0xff;
            return out;
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream raw;
        try {
            raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": file not found", e);
        }
        try {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            if (b0 < 0 || b1 < 0) throw new IOException(file + ": empty file, not an IDX file");
            InputStream s = (b0 == 0x1f && b1 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
            return new DataInputStream(s);
        } catch (IOException e) {
            raw.close();
            throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e : new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
