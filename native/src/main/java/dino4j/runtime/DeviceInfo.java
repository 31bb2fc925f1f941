package dino4j.runtime;

/** What this process can compute on; the CPU is always there. */
public final class DeviceInfo {
    private DeviceInfo() {}

    public static int cpuCores() { return Runtime.getRuntime().availableProcessors(); }

    public static String describeCpu() {
        return System.getProperty("os.arch") + ", " + cpuCores() + " cores, Java " + Runtime.version();
    }
}
