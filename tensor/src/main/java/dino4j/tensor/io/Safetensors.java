package dino4j.tensor.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dino4j.tensor.DType;
import dino4j.tensor.Shape;
import dino4j.tensor.Storage;
import dino4j.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format: 8-byte little-endian header length, a JSON header mapping each name to
 * {dtype, shape, data_offsets} (plus an optional "__metadata__" string map), then raw little-endian data.
 * Tensors keep their stored dtype (a BF16 checkpoint loads as BF16 storage; {@code t.to(DType.F32)} converts).
 * Writes go to a temporary file that is renamed into place, so a crash never leaves a half-written file.
 */
public final class Safetensors {
    private Safetensors() {}

    private static final long MAX_HEADER = 100L << 20;

    /** A loaded file: tensors in file order, and the metadata strings. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Tensor get(String key) {
            Tensor t = tensors.get(key);
            if (t == null) throw new IllegalArgumentException("no tensor named '" + key + "'");
            return t;
        }
    }

    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": not a safetensors file (only " + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size)
                throw new IOException(file + ": not a safetensors file (header length " + headerLen + " with file size " + size + ")");
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, file);
            JsonObject header;
            try {
                header = JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8)).getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw new IOException(file + ": safetensors header is not valid JSON: " + e.getMessage(), e);
            }
            long dataStart = 8 + headerLen;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                String key = e.getKey();
                if (key.equals("__metadata__")) {
                    for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet())
                        meta.put(m.getKey(), m.getValue().getAsString());
                    continue;
                }
                tensors.put(key, readTensor(ch, file, key, e.getValue().getAsJsonObject(), dataStart, size));
            }
            return new Contents(tensors, meta);
        }
    }

    private static Tensor readTensor(FileChannel ch, Path file, String key, JsonObject info, long dataStart, long fileSize) throws IOException {
        DType dtype;
        try {
            dtype = DType.fromSafetensors(info.get("dtype").getAsString());
        } catch (IllegalArgumentException ex) {
            throw new IOException(file + ": tensor '" + key + "': " + ex.getMessage());
        }
        JsonArray shapeJ = info.getAsJsonArray("shape");
        int[] shape = new int[shapeJ.size()];
        for (int i = 0; i < shape.length; i++) shape[i] = shapeJ.get(i).getAsInt();
        JsonArray offs = info.getAsJsonArray("data_offsets");
        long begin = offs.get(0).getAsLong(), end = offs.get(1).getAsLong();
        long n = Shape.numel(shape);
        if (end - begin != n * dtype.bytes)
            throw new IOException(file + ": tensor '" + key + "' has shape " + Shape.str(shape) + " " + dtype + " (" + n * dtype.bytes
                    + " bytes) but data_offsets span " + (end - begin) + " bytes");
        if (begin < 0 || dataStart + end > fileSize)
            throw new IOException(file + ": tensor '" + key + "' data [" + begin + ", " + end + ") lies beyond the end of the file (truncated download?)");
        ByteBuffer buf = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, dataStart + begin, file);
        buf.flip();
        Storage s = Storage.allocate(dtype, (int) n);
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().get(s.floats());
            case F64 -> buf.asDoubleBuffer().get(s.doubles());
            case BF16, F16 -> buf.asShortBuffer().get(s.halves());
            case I64 -> buf.asLongBuffer().get(s.longs());
            case I32 -> buf.asIntBuffer().get(s.ints());
            case U8, BOOL -> buf.get(s.bytes());
        }
        return new Tensor(s, shape, Shape.contiguousStrides(shape), 0);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new IOException(file + ": unexpected end of file");
            pos += r;
        }
    }

    /** Writes tensors (in map order) atomically: temp file in the same folder, fsync, rename. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            new TreeMap<>(metadata).forEach(m::addProperty);
            header.add("__metadata__", m);
        }
        long off = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            JsonObject info = new JsonObject();
            info.addProperty("dtype", t.dtype().name());
            JsonArray shape = new JsonArray();
            for (int d : t.shape()) shape.add(d);
            info.add("shape", shape);
            JsonArray offs = new JsonArray();
            long bytes = (long) t.numel() * t.dtype().bytes;
            offs.add(off);
            offs.add(off + bytes);
            info.add("data_offsets", offs);
            header.add(e.getKey(), info);
            off += bytes;
        }
        byte[] hj = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - hj.length % 8) % 8; // keep data 8-byte aligned, padding with spaces as the reference writer does
        byte[] hdr = new byte[hj.length + pad];
        System.arraycopy(hj, 0, hdr, 0, hj.length);
        for (int i = hj.length; i < hdr.length; i++) hdr[i] = ' ';

        AtomicFile.write(file, os -> {
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hdr.length);
            os.write(lb.array());
            os.write(hdr);
            for (Tensor t : tensors.values()) writeData(os, t.contiguous());
        });
    }

    public static void write(Path file, Map<String, Tensor> tensors) throws IOException { write(file, tensors, Map.of()); }

    private static void writeData(OutputStream os, Tensor t) throws IOException {
        int n = t.numel(), off = t.offset();
        ByteBuffer bb = ByteBuffer.allocate(Math.min(n * t.dtype().bytes, 1 << 20) + 8).order(ByteOrder.LITTLE_ENDIAN);
        Storage s = t.storage();
        for (int i = 0; i < n; i++) {
            if (bb.remaining() < 8) { os.write(bb.array(), 0, bb.position()); bb.clear(); }
            switch (t.dtype()) {
                case F32 -> bb.putFloat(s.floats()[off + i]);
                case F64 -> bb.putDouble(s.doubles()[off + i]);
                case BF16, F16 -> bb.putShort(s.halves()[off + i]);
                case I64 -> bb.putLong(s.longs()[off + i]);
                case I32 -> bb.putInt(s.ints()[off + i]);
                case U8, BOOL -> bb.put(s.bytes()[off + i]);
            }
        }
        os.write(bb.array(), 0, bb.position());
    }
}
