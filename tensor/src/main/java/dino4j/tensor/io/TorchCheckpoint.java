package dino4j.tensor.io;

import dino4j.tensor.DType;
import dino4j.tensor.Shape;
import dino4j.tensor.Storage;
import dino4j.tensor.Tensor;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads what {@code torch.save(state_dict)} writes: a zip holding {@code <name>/data.pkl} (a pickle of an
 * OrderedDict of tensors rebuilt from storages) and the raw storages {@code <name>/data/<key>}.
 *
 * <p>A checkpoint must never run code: the unpickler accepts only the globals torch.save writes for a
 * state_dict (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter, the typed storages) and refuses every
 * other global and the object-building opcodes, naming the file and the refused global.
 */
public final class TorchCheckpoint {
    private TorchCheckpoint() {}

    private static final Map<String, DType> STORAGES = Map.of(
            "FloatStorage", DType.F32, "DoubleStorage", DType.F64, "BFloat16Storage", DType.BF16,
            "HalfStorage", DType.F16, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "BoolStorage", DType.BOOL, "ByteStorage", DType.U8);

    private static final Set<String> ALLOWED = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
            "builtins.dict");

    /** Reads a state_dict; nested dicts (e.g. {"teacher": {...}}) are flattened with dotted keys. */
    public static Map<String, Tensor> read(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            for (var it = zip.entries(); it.hasMoreElements(); ) {
                ZipEntry e = it.nextElement();
                if (e.getName().endsWith("/data.pkl") || e.getName().equals("data.pkl")) { pkl = e; break; }
            }
            if (pkl == null) throw new IOException(file + ": not a torch.save zip checkpoint (no data.pkl inside)");
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            Object root;
            Restricted u = new Restricted(file, zip, prefix);
            try (InputStream in = zip.getInputStream(pkl)) {
                root = u.load(in);
            } catch (PickleException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            flatten("", root, out, file);
            return out;
        } catch (java.util.zip.ZipException e) {
            throw new IOException(file + ": not a torch.save zip checkpoint (" + e.getMessage() + "); legacy non-zip .pth files are not supported", e);
        }
    }

    private static void flatten(String prefix, Object v, Map<String, Tensor> out, Path file) throws IOException {
        if (v instanceof Tensor t) {
            out.put(prefix, t);
        } else if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet())
                flatten(prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey(), e.getValue(), out, file);
        } else if (prefix.isEmpty()) {
            throw new IOException(file + ": the checkpoint holds a " + (v == null ? "None" : v.getClass().getSimpleName()) + ", not a state_dict");
        } // non-tensor leaves (numbers, strings) are metadata and skipped
    }

    /** OrderedDict that accepts the state BUILD gives it (the _metadata attribute torch attaches). */
    public static final class PyOrderedDict extends LinkedHashMap<Object, Object> {
        public void __setstate__(HashMap<?, ?> state) { /* _metadata: version info only */ }
    }

    private record StorageType(DType dtype) {}

    private static final class Restricted extends Unpickler {
        private final Path file;
        private final ZipFile zip;
        private final String prefix;
        private final Map<String, Storage> storages = new HashMap<>();

        Restricted(Path file, ZipFile zip, String prefix) {
            this.file = file; this.zip = zip; this.prefix = prefix;
        }

        @Override protected Object dispatch(short key) throws PickleException, IOException {
            switch (key) {
                case 'c' -> { // GLOBAL module\nname\n
                    String module = readLine(), name = readLine();
                    stack.add(resolve(module, name));
                    return NO_RETURN_VALUE;
                }
                case 0x93 -> { // STACK_GLOBAL
                    String name = (String) stack.pop(), module = (String) stack.pop();
                    stack.add(resolve(module, name));
                    return NO_RETURN_VALUE;
                }
                case 'u' -> { // SETITEMS: the library collects pairs in a HashMap first, losing the checkpoint's key order
                    List<Object> items = stack.pop_all_since_marker();
                    @SuppressWarnings("unchecked") Map<Object, Object> dict = (Map<Object, Object>) stack.peek();
                    for (int i = 0; i + 1 < items.size(); i += 2) dict.put(items.get(i), items.get(i + 1));
                    return NO_RETURN_VALUE;
                }
                case 'i', 'o', 0x82, 0x83, 0x84 -> throw new PickleException(
                        "refusing pickle opcode 0x" + Integer.toHexString(key) + " (it builds arbitrary objects; a state_dict never needs it)");
                default -> { return super.dispatch(key); }
            }
        }

        private String readLine() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = input.read()) != '\n') {
                if (c < 0) throw new IOException("truncated pickle");
                b.write(c);
            }
            return b.toString(StandardCharsets.UTF_8);
        }

        private Object resolve(String module, String name) {
            String full = module + "." + name;
            if (module.equals("torch") && STORAGES.containsKey(name)) return new StorageType(STORAGES.get(name));
            if (!ALLOWED.contains(full))
                throw new PickleException("refusing global '" + full + "': only what torch.save writes for a state_dict is accepted"
                        + " (OrderedDict, tensors, typed storages); this file may contain code");
            return switch (full) {
                case "collections.OrderedDict", "builtins.dict" -> (IObjectConstructor) args -> new PyOrderedDict();
                case "torch._utils._rebuild_tensor_v2" -> (IObjectConstructor) TorchCheckpoint::rebuildTensor;
                case "torch._utils._rebuild_parameter" -> (IObjectConstructor) args -> args[0];
                default -> throw new IllegalStateException(full);
            };
        }

        @Override protected Object persistentLoad(Object pid) throws PickleException {
            // ('storage', storage_type, key, location, numel)
            if (!(pid instanceof Object[] t) || t.length < 5 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType st))
                throw new PickleException("unexpected persistent id " + pid + " (only tensor storages are accepted)");
            String key = String.valueOf(t[2]);
            int numel = ((Number) t[4]).intValue();
            return storages.computeIfAbsent(key, k -> readStorage(k, st.dtype(), numel));
        }

        private Storage readStorage(String key, DType dtype, int numel) {
            ZipEntry e = zip.getEntry(prefix + "data/" + key);
            if (e == null) throw new PickleException("storage '" + key + "' is missing from the archive (truncated file?)");
            byte[] bytes;
            try (InputStream in = zip.getInputStream(e)) {
                bytes = in.readAllBytes();
            } catch (IOException ex) {
                throw new PickleException("cannot read storage '" + key + "': " + ex.getMessage());
            }
            if (bytes.length < (long) numel * dtype.bytes)
                throw new PickleException("storage '" + key + "' has " + bytes.length + " bytes, needs " + (long) numel * dtype.bytes);
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            Storage s = Storage.allocate(dtype, numel);
            switch (dtype) {
                case F32 -> buf.asFloatBuffer().get(s.floats(), 0, numel);
                case F64 -> buf.asDoubleBuffer().get(s.doubles(), 0, numel);
                case BF16, F16 -> buf.asShortBuffer().get(s.halves(), 0, numel);
                case I64 -> buf.asLongBuffer().get(s.longs(), 0, numel);
                case I32 -> buf.asIntBuffer().get(s.ints(), 0, numel);
                case U8, BOOL -> buf.get(s.bytes(), 0, numel);
            }
            return s;
        }
    }

    /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
    private static Object rebuildTensor(Object[] args) {
        if (!(args[0] instanceof Storage s)) throw new PickleException("_rebuild_tensor_v2 without a storage");
        int offset = ((Number) args[1]).intValue();
        int[] size = ints(args[2]), stride = ints(args[3]);
        long maxIdx = offset;
        for (int i = 0; i < size.length; i++) if (size[i] > 0) maxIdx += (long) (size[i] - 1) * stride[i];
        if (Shape.numel(size) > 0 && maxIdx >= s.length())
            throw new PickleException("tensor of size " + Shape.str(size) + " reaches past its storage of " + s.length() + " elements");
        return new Tensor(s, size, stride, offset);
    }

    private static int[] ints(Object o) {
        Object[] a = o instanceof Object[] arr ? arr : ((List<?>) o).toArray();
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = ((Number) a[i]).intValue();
        return r;
    }
}
