package dino4j.nn.io;

import dino4j.nn.Module;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Module state dicts as safetensors files, under the module's dotted names. */
public final class StateDicts {
    private StateDicts() {}

    /** Writes {@link Module#stateDict()} atomically. */
    public static void save(Module module, Path file) throws IOException { save(module, file, Map.of()); }

    public static void save(Module module, Path file, Map<String, String> metadata) throws IOException {
        Safetensors.write(file, module.stateDict(), metadata);
    }

    /**
     * Loads a safetensors file into {@code module} (dtype-converting; see {@link Module#loadStateDict}).
     * Errors name the file. Returns the keys left unloaded (non-strict).
     */
    public static List<String> load(Module module, Path file, boolean strict) throws IOException {
        Map<String, Tensor> tensors = Safetensors.read(file).tensors();
        try {
            return module.loadStateDict(tensors, strict);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}
