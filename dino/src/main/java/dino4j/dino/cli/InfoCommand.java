package dino4j.dino.cli;

import dino4j.kernels.Parallel;
import dino4j.kernels.Simd;
import dino4j.runtime.DeviceInfo;
import picocli.CommandLine.Command;

/** Prints what this machine gives dino4j: JVM, cores, the SIMD species and the thread pool. */
@Command(name = "info", description = "Show the JVM, CPU, SIMD width and threads dino4j will use.")
final class InfoCommand implements Runnable {
    @Override public void run() {
        System.out.println("dino4j 0.1.0");
        System.out.println("cpu:     " + DeviceInfo.describeCpu());
        System.out.println("simd:    " + Simd.F + " (" + Simd.LANES + " float lanes; -Ddino4j.simd.bits=256|512 to override)");
        System.out.println("threads: " + Parallel.threads() + " (DINO4J_THREADS=N to override)");
        System.out.println("gpu:     CPU backend only (the CUDA backend arrives with issue 5)");
    }
}
