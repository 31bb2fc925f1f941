package dino4j.dino.cli;

import dino4j.kernels.GemmBf16;
import dino4j.kernels.Parallel;
import dino4j.kernels.Simd;
import dino4j.runtime.Cuda;
import dino4j.runtime.DeviceInfo;
import picocli.CommandLine.Command;

/** Prints what this machine gives dino4j: cores, the SIMD species, the thread pool, the bf16 GEMM and the GPU. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the CPU, SIMD width, threads, bf16 GEMM and GPU dino4j will use.")
final class InfoCommand implements Runnable {
    @Override public void run() {
        System.out.println("dino4j 0.1.0");
        System.out.println("cpu:     " + DeviceInfo.describeCpu());
        System.out.println("simd:    " + Simd.F + " (" + Simd.LANES + " float lanes; -Ddino4j.simd.bits=256|512 to override)");
        System.out.println("threads: " + Parallel.threads() + " (DINO4J_THREADS=N to override)");
        System.out.println("bf16:    " + GemmBf16.status() + " (--matmul bf16)");
        System.out.println("gpu:     " + Cuda.status());
    }
}
