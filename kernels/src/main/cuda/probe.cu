// The smallest kernel: proves that module loading, argument passing and launches work on a device.
#include "common.cuh"

extern "C" __global__ void probe_iota(float* out, int n, float scale) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = scale * (float)i;
}
