package dino4j.dino.cli;

import dino4j.kernels.GemmBf16;
import dino4j.kernels.GemmCuda;
import dino4j.kernels.GemmKernels;
import dino4j.runtime.Cuda;
import dino4j.tensor.CudaBackend;
import dino4j.tensor.Device;

/** The {@code --device auto|cpu|cuda} option of the commands: installs the CUDA backend when it is used. */
final class DeviceChoice {
    private DeviceChoice() {}

    static Device resolve(String option) {
        return switch (option.toLowerCase()) {
            case "cpu" -> Device.CPU;
            case "cuda", "gpu" -> {
                if (CudaBackend.install() == null)
                    throw new IllegalArgumentException("--device cuda: " + Cuda.status());
                System.out.println("device: " + Cuda.status());
                yield Device.CUDA;
            }
            case "auto" -> {
                if (Cuda.available() && CudaBackend.install() != null) {
                    System.out.println("device: " + Cuda.status());
                    yield Device.CUDA;
                }
                System.out.println("device: CPU (" + Cuda.status() + ")");
                yield Device.CPU;
            }
            default -> throw new IllegalArgumentException("--device must be auto, cpu or cuda, got '" + option + "'");
        };
    }

    /** The {@code --matmul} value, lower case, or an error naming the option (before any work starts). */
    static String checkMatmul(String option) {
        String p = option.trim().toLowerCase(java.util.Locale.ROOT);
        if (!java.util.Set.of("auto", "fp32", "tf32", "bf16").contains(p))
            throw new IllegalArgumentException("--matmul must be auto, fp32, tf32 or bf16, got '" + option + "'");
        return p;
    }

    /**
     * The {@code --matmul auto|fp32|tf32|bf16} option: what large float32 products compute in on device d.
     * auto keeps each device's default (CPU: fp32; CUDA: tf32). CPU bf16 runs on AMX tiles or AVX512-BF16 where the
     * CPU has them and falls back to fp32 with a line saying why; tf32 exists only on the GPU.
     */
    static String matmul(String option, Device d) {
        String p = checkMatmul(option);
        String line;
        if (d == Device.CUDA) {
            CudaBackend b = CudaBackend.get();
            if (!p.equals("auto")) b.setMatmulPrecision(GemmCuda.Precision.valueOf(p.toUpperCase(java.util.Locale.ROOT)));
            line = "matmul: " + b.matmulPrecision().name().toLowerCase(java.util.Locale.ROOT) + " (CUDA)";
        } else {
            if (p.equals("tf32")) throw new IllegalArgumentException("--matmul tf32 exists on the GPU only; on the CPU use fp32 or bf16");
            var got = GemmKernels.setMatmulPrecision(p.equals("bf16") ? GemmKernels.Precision.BF16 : GemmKernels.Precision.FP32);
            line = "matmul: " + got.name().toLowerCase(java.util.Locale.ROOT) + (p.equals("bf16") ? " (" + GemmBf16.status() + ")" : " (CPU)");
        }
        System.out.println(line);
        return line;
    }

    /** Resolves the option and moves the model's parameters and buffers there. */
    static Device place(Object model, String option) {
        Device d = resolve(option);
        if (d != Device.CPU && model instanceof dino4j.nn.Module m) m.to(d);
        return d;
    }
}
