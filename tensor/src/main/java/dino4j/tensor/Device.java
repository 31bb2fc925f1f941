package dino4j.tensor;

/** Where a tensor's storage lives. The CPU always exists; CUDA arrives with the JCuda backend. */
public enum Device {
    CPU, CUDA;
}
