package dino4j.dino.cli;

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

    /** Resolves the option and moves the model's parameters and buffers there. */
    static Device place(Object model, String option) {
        Device d = resolve(option);
        if (d != Device.CPU && model instanceof dino4j.nn.Module m) m.to(d);
        return d;
    }
}
