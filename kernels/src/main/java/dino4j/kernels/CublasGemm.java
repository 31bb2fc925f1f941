package dino4j.kernels;

import dino4j.kernels.GemmCuda.Precision;
import dino4j.runtime.Cublas;
import dino4j.runtime.CudaContext;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;

/**
 * The {@link GemmCuda} contract (row-major, batched, optional bias) through cuBLAS, to compare speed and results
 * with our kernels where {@code libcublas.so.12} loads ({@link #available()}; on CUDA-13-only machines it does
 * not). Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so B goes first with the same transpose
 * flags. FP32: {@code cublasSgemmStridedBatched} (the handle's default math, true fp32); TF32 and BF16 (fp32 storage):
 * {@code cublasGemmStridedBatchedEx} with {@code CUBLAS_COMPUTE_32F_FAST_TF32} / {@code _FAST_16BF};
 * {@link #gemmBf16}: bf16 A and B, fp32 C, {@code CUBLAS_COMPUTE_32F}. The bias is added by a small kernel
 * afterwards; {@code K == 0} or {@code alpha == 0} goes to our own kernel (cuBLAS rejects some such leading dims).
 */
public final class CublasGemm {
    private CublasGemm() {}

    public static boolean available() { return Cublas.available(); }

    public static void gemm(CudaContext c, Precision p, boolean transA, boolean transB, int M, int N, int K,
                            float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                            float beta, CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        if (p == null) throw new IllegalArgumentException("precision is null");
        run(c, p, false, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, bias);
    }

    /** bf16-stored A and B, float32 C and bias, fp32 accumulation. */
    public static void gemmBf16(CudaContext c, boolean transA, boolean transB, int M, int N, int K, float alpha,
                                CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                                float beta, CUdeviceptr C, int ldc, long strideC, int batch, CUdeviceptr bias) {
        run(c, Precision.BF16, true, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch, bias);
    }

    private static void run(CudaContext c, Precision p, boolean bf16Storage, boolean transA, boolean transB, int M,
                            int N, int K, float alpha, CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb,
                            long strideB, float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                            CUdeviceptr bias) {
        boolean readsAB = K > 0 && alpha != 0f;
        if (!GemmCuda.validate(c, transA, transB, M, N, K, A, lda, strideA, B, ldb, strideB, C, ldc, strideC, batch, readsAB)) return;
        if (!readsAB) {   // C = beta*C + bias: no product to compute
            GemmCuda.gemm(c, Precision.FP32, GemmCuda.Tile.AUTO, transA, transB, M, N, 0, alpha, null, lda, strideA,
                    null, ldb, strideB, beta, C, ldc, strideC, batch, bias);
            return;
        }
        cublasHandle h = Cublas.handle();
        c.makeCurrent();
        Pointer al = Pointer.to(new float[]{alpha}), be = Pointer.to(new float[]{beta});
        int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        if (!bf16Storage && p == Precision.FP32) {
            JCublas2.cublasSgemmStridedBatched(h, opB, opA, N, M, K, al, B, ldb, strideB, A, lda, strideA, be, C, ldc,
                    strideC, batch);
        } else {
            int in = bf16Storage ? cudaDataType.CUDA_R_16BF : cudaDataType.CUDA_R_32F;
            int compute = bf16Storage ? cublasComputeType.CUBLAS_COMPUTE_32F
                    : p == Precision.TF32 ? cublasComputeType.CUBLAS_COMPUTE_32F_FAST_TF32
                    : cublasComputeType.CUBLAS_COMPUTE_32F_FAST_16BF;
            JCublas2.cublasGemmStridedBatchedEx_new(h, opB, opA, N, M, K, al, B, in, ldb, strideB, A, in, lda, strideA,
                    be, C, cudaDataType.CUDA_R_32F, ldc, strideC, batch, compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        }
        if (bias != null) {
            long total = (long) M * N;
            int blocks = (int) Math.min((total + 255) / 256, 65535L * 4);
            c.kernel(GemmCuda.FAMILY, "gemm_bias_add").launch(blocks, Math.min(batch, 65535), 1, 256, 1, 1, 0,
                    C, M, N, ldc, strideC, batch, bias);
        }
    }
}
