// nvcc-arch: -gencode=arch=compute_90a,code=sm_90a
// GEMM family for Hopper (H100/H200; sm_90a machine code only, see the first line, read by build-cuda.sh): two
// GEMMs of gemm.cu on warpgroup tensor-core MMAs (wgmma), with the same semantics, row-major:
//   C_z[M,N] = alpha * op(A_z) * op(B_z) + beta * C_z + bias      (accumulation, C, alpha, beta, bias fp32)
// op(A)[i,k] = transA ? A[k*lda + i] : A[i*lda + k];  op(B)[k,n] = transB ? B[n*ldb + k] : B[k*ldb + n].
// Batch offsets are in elements (strideB = 0 broadcasts B). beta == 0 never reads C.
//   gemm_sm90_bf16_{nn,nt,tn,tt}_{l,m}: A and B stored as bf16 (gemm_bf16s), wgmma.m64nNk16.f32.bf16.bf16.
//   gemm_sm90_tf32_nt_{l,m}: A and B fp32, rounded to tf32 like gemm_tf32 (cvt.rna), wgmma.m64nNk8.f32.tf32.tf32;
//     NT only (A [M][K], B [N][K]): wgmma reads tf32 operands K-major only.
//
// HOW IT WORKS
// 1. A CTA of 256 threads = 2 warpgroups (4 consecutive warps each) computes a 128×BN tile of C: warpgroup w owns
//    rows 64w..64w+63 and all BN columns, as one wgmma.m64nBN per MMA k-step (16 bf16 or 8 tf32) whose fp32
//    accumulators (BN/2 per thread) stay in registers. Configs: l = 128×256, 4 stages (193 KB of shared memory,
//    1 CTA/SM); m = 128×128, 3 stages (97 KB, 2 CTAs/SM) for problems that fit 256-wide tiles badly (GemmCuda picks).
// 2. K is walked in slices of 128 bytes per row (BK = 64 bf16 or 32 fp32) through a STAGES-deep ring in dynamic
//    shared memory. Every thread copies 16-byte chunks of both operands with cp.async (zero-filled past the matrix
//    edges): no producer warp and no TMA (JCuda 12.6 cannot encode the tensor map), the simplest pipeline that feeds
//    wgmma. TF32: once its copies land, each thread rounds its own chunks in place (cvt.rna.tf32.f32), since wgmma
//    would otherwise just drop the low mantissa bits.
// 3. Shared tiles are stored in wgmma's "128-byte swizzle" canonical layout, so the tensor cores read them through
//    matrix descriptors without any register shuffling. A tile is cut into rows of 128 bytes (one K slice of one m
//    or n, or 64 consecutive m or n of one k); in every 8-row group (1024 bytes, 1024-byte aligned) the 16-byte
//    chunk c of row r sits at chunk position c ^ (r & 7), which also makes the 8 chunks a warp quarter copies into
//    one row land in 8 different bank groups. With u the unswizzled byte offset: offset = u ^ (((u >> 7) & 7) << 4).
//      K-major operand (A when !transA, B when transB): a row is one m (or n) with its K slice; rows follow rows.
//      MN-major operand (bf16 only; A when transA, B when !transB): a row is one k with 64 consecutive m (or n); the
//        slice is stored as blocks of 64 k-rows × 64 columns (8 KB), block after block along M (N).
// 4. Descriptors (64 bits): start address >> 4 in bits 0-13, leading byte offset (LBO) >> 4 in 16-29, stride byte
//    offset (SBO) >> 4 in 32-45, base offset 0 in 49-51 (every atom is 1024-byte aligned), swizzle mode 1 (128 B)
//    in 62-63. K-major: SBO = 1024 (next 8 rows), LBO unused (1); k-step s starts 32·s bytes into the rows (the
//    hardware swizzles the addresses it computes, so a start inside a swizzled row is legal). MN-major:
//    SBO = 1024 (next 8 k), LBO = 8192 (next 64 columns); step s starts 16·s rows = 2048·s bytes later. wgmma's
//    transpose immediates say which bf16 operand is MN-major, so all four bf16 transpositions run.
// 5. Per slice kt: wait for this thread's copies of kt (tf32: round them), fence.proxy.async (cp.async and
//    st.shared write through the generic proxy, wgmma reads through the async proxy), barrier; wgmma.fence,
//    4 wgmmas (k-steps), commit; then wgmma.wait_group 1 — slice kt-1's MMAs are done while kt's keep the tensor
//    cores busy — and a second barrier (both warpgroups are past kt-1) before the cp.async of slice kt+STAGES-1
//    refill kt-1's slot. So STAGES-1 slices are in flight behind the one being multiplied, for one more barrier.
// 6. Epilogue straight from the accumulators (wgmma's D fragment: warp q of a warpgroup holds rows 16q..16q+15;
//    for each 8-column block j, d[4j], d[4j+1] = (row g, columns 8j+2t, 8j+2t+1) and d[4j+2], d[4j+3] = row g+8,
//    g = lane/4, t = lane%4): alpha, beta·C, bias, float2 stores when aligned. CTAs are rasterised in groups of 8
//    tile-rows (L2 reuse of A and B panels); blockIdx.y walks the batch (grid-strided past 65535).
// 7. A base pointer that is not 16-byte aligned, or a leading dimension that is not a multiple of 16 bytes, takes
//    plain loads + shared stores into the same layout (correct, slow); GemmCuda sends only 16-byte rows.
#include "common.cuh"

#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#error "gemm_sm90.cu needs the sm_90a target (wgmma): -gencode=arch=compute_90a,code=sm_90a"
#endif

typedef unsigned short bf16_t;   // bf16 storage (bit pattern)

// ---------------------------------------------------------------- PTX helpers
static __device__ __forceinline__ uint32_t smem_u32(const void* p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}
// 16-byte async copy to a shared address; bytes in [0,16] are read from src, the rest of the 16 are zero-filled.
static __device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
static __device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
static __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }
static __device__ __forceinline__ void st_shared16(uint32_t dst, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};\n" ::"r"(dst), "r"(a), "r"(b), "r"(c), "r"(d) : "memory");
}
static __device__ __forceinline__ uint4 ld_shared16(uint32_t src) {
    uint4 v;
    asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(src) : "memory");
    return v;
}
static __device__ __forceinline__ uint32_t tf32(uint32_t x) {   // round to nearest, ties away (as gemm.cu)
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(__uint_as_float(x)));
    return r;
}
// Makes this thread's generic-proxy writes to shared memory (cp.async, st.shared) visible to the async proxy
// (wgmma operand reads); a barrier afterwards extends that to the other threads.
static __device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
static __device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
static __device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
static __device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
// The compiler sees a wgmma's accumulators as written when the instruction is issued, but the tensor cores write
// them until the matching wait: this empty asm pins every accumulator at the point of the call, so no read, write
// or copy of one is moved across an issue or a wait.
template <int R>
static __device__ __forceinline__ void pin(float (&d)[R]) {
#pragma unroll
    for (int i = 0; i < R; ++i) asm volatile("" : "+f"(d[i])::"memory");
}
static __device__ __forceinline__ uint32_t dynamic_smem_bytes() {
    uint32_t r;
    asm("mov.u32 %0, %%dynamic_smem_size;\n" : "=r"(r));
    return r;
}

// Shared-memory matrix descriptor of a 128-byte-swizzled operand (see HOW IT WORKS, 4).
static __device__ __forceinline__ uint64_t smem_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t)((addr & 0x3FFFFu) >> 4) | (uint64_t)((lbo & 0x3FFFFu) >> 4) << 16 |
           (uint64_t)((sbo & 0x3FFFFu) >> 4) << 32 | 1ull << 62;
}

// D[64×N] += A[64×16] · B[16×N] (fp32 += bf16·bf16) from descriptors; TA/TB = 1: that operand is MN-major.
// scale-d = 1 (accumulate; the accumulators start at zero), no negation. The tf32 forms below take k = 8 and
// K-major operands only.
template <int TA, int TB>
static __device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t da, uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "%64, %65, p, 1, 1, %67, %68;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(da), "l"(db), "r"(1), "n"(TA), "n"(TB));
}
template <int TA, int TB>
static __device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], uint64_t da, uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
        "%128, %129, p, 1, 1, %131, %132;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
        : "l"(da), "l"(db), "r"(1), "n"(TA), "n"(TB));
}

static __device__ __forceinline__ void wgmma_m64n128k8_tf32(float (&d)[64], uint64_t da, uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "%64, %65, p, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(da), "l"(db), "r"(1));
}
static __device__ __forceinline__ void wgmma_m64n256k8_tf32(float (&d)[128], uint64_t da, uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k8.f32.tf32.tf32 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
        "%128, %129, p, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
        : "l"(da), "l"(db), "r"(1));
}

constexpr int THREADS = 256;   // 2 warpgroups
constexpr int BM = 128;
constexpr int ROW_BYTES = 128;  // bytes of K per row and slice: BK = 64 bf16 or 32 fp32

// Streams one operand's tile into the swizzled layout, one K slice per call. The tile is ROWS global rows of CPR
// 16-byte chunks (CH = 16 / sizeof(T) elements each); thread tid copies chunk tid % CPR of rows tid / CPR + i·RSTEP.
// K advances along the columns (K-major operand) or the rows (MN-major). Keeps a running pointer and two edge
// distances.
template <typename T, int ROWS, int CPR, bool K_ALONG_COLS>
struct SwizzledLoader {
    static constexpr int CH = 16 / (int)sizeof(T), BK = ROW_BYTES / (int)sizeof(T);
    static constexpr int RSTEP = THREADS / CPR, ITERS = ROWS / RSTEP;
    // RSTEP % 8 == 0: every row this thread copies has the same r & 7, hence the same XOR term.
    static_assert(THREADS % CPR == 0 && ROWS % RSTEP == 0 && RSTEP % 8 == 0, "tile does not split evenly");
    static_assert(K_ALONG_COLS ? CPR * CH == BK : ROWS == BK, "one K slice is 128 bytes per row");
    const T* p;        // this thread's first chunk in the current slice
    int rowsLeft;      // rows (from this thread's first row) still inside the matrix
    int colsLeft;      // columns (from this thread's chunk start) still inside the matrix
    int ldg;           // global row stride (elements)
    uint32_t soff;     // byte offset of this thread's first chunk in a stage (swizzled)

    __device__ __forceinline__ SwizzledLoader(const T* g, int ldg_, int r0, int c0, int rmax, int cmax, int tid) {
        const int r = tid / CPR, cc = tid % CPR;
        ldg = ldg_;
        p = g + (size_t)(r0 + r) * ldg_ + (c0 + cc * CH);
        rowsLeft = rmax - r0 - r;
        colsLeft = cmax - c0 - cc * CH;
        // MN-major: chunk cc is chunk cc % 8 of the 64-column block cc / 8 (blocks of ROWS·128 bytes).
        const uint32_t u = (uint32_t)(cc >> 3) * (ROWS * ROW_BYTES) + (uint32_t)r * ROW_BYTES + (uint32_t)(cc & 7) * 16;
        soff = u ^ ((uint32_t)(r & 7) << 4);
    }

    __device__ __forceinline__ void load(uint32_t stage, bool vec) {
        // Rows it·RSTEP apart are multiples of 1024 bytes apart, so the XOR term is unchanged.
        if (vec) {
#pragma unroll
            for (int it = 0; it < ITERS; ++it) {
                const int n = it * RSTEP < rowsLeft ? min(max(colsLeft, 0), CH) : 0;
                cp_async16(stage + soff + it * RSTEP * ROW_BYTES, p + (size_t)(it * RSTEP) * ldg,
                           n * (int)sizeof(T));   // n == 0 reads nothing
            }
        } else {
#pragma unroll 1
            for (int it = 0; it < ITERS; ++it) {
                const bool rowOk = it * RSTEP < rowsLeft;
                const T* src = p + (size_t)(it * RSTEP) * ldg;
                uint32_t w[4];
                if constexpr (sizeof(T) == 4) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) w[e] = (rowOk && e < colsLeft) ? __float_as_uint(src[e]) : 0u;
                } else {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const uint32_t lo = (rowOk && 2 * e < colsLeft) ? src[2 * e] : 0u;
                        const uint32_t hi = (rowOk && 2 * e + 1 < colsLeft) ? src[2 * e + 1] : 0u;
                        w[e] = lo | (hi << 16);
                    }
                }
                st_shared16(stage + soff + it * RSTEP * ROW_BYTES, w[0], w[1], w[2], w[3]);
            }
        }
        if constexpr (K_ALONG_COLS) { p += BK; colsLeft -= BK; }
        else { p += (size_t)BK * ldg; rowsLeft -= BK; }
    }

    // TF32: rounds, in place, the chunks this thread copied into a stage (after they landed, before the fence).
    __device__ __forceinline__ void round_tf32(uint32_t stage) const {
        static_assert(sizeof(T) == 4, "tf32 rounding is for fp32 tiles");
#pragma unroll 1   // rolled: the accumulators are live here (unrolled, the 128×128 config spills at 128 registers)
        for (int it = 0; it < ITERS; ++it) {
            const uint32_t a = stage + soff + it * RSTEP * ROW_BYTES;
            const uint4 v = ld_shared16(a);
            st_shared16(a, tf32(v.x), tf32(v.y), tf32(v.z), tf32(v.w));
        }
    }
};

// T = bf16_t: bf16 operands; T = float: tf32 (NT only).
template <typename T, int BN, int STAGES, bool TA, bool TB>
static __device__ __forceinline__ void wg_gemm(int M, int N, int K, float alpha, const T* __restrict__ A, int lda,
                                               long long sA, const T* __restrict__ B, int ldb, long long sB,
                                               float beta, float* __restrict__ C, int ldc, long long sC, int batch,
                                               const float* __restrict__ bias) {
    static_assert(BN == 128 || BN == 256, "wgmma tile widths 128 and 256");
    constexpr bool TF32 = sizeof(T) == 4;
    static_assert(!TF32 || (!TA && TB), "tf32 wgmma reads K-major operands only (NT)");
    constexpr int BK = ROW_BYTES / (int)sizeof(T), CH = 16 / (int)sizeof(T);
    constexpr int R = BN / 2;                          // accumulators per thread
    constexpr uint32_t A_BYTES = BM * ROW_BYTES, STAGE_BYTES = A_BYTES + BN * ROW_BYTES;
    static_assert(A_BYTES % 1024 == 0 && STAGE_BYTES % 1024 == 0, "swizzle atoms must stay 1024-byte aligned");
    // Per k-step: start-address advance and LBO of each operand (HOW IT WORKS, 4).
    constexpr uint32_t A_STEP = TA ? 2048 : 32, A_LBO = TA ? 8192 : 16;
    constexpr uint32_t B_STEP = TB ? 32 : 2048, B_LBO = TB ? 16 : 8192;

    extern __shared__ __align__(16) unsigned char smem_raw[];
    // The swizzle pattern is a function of address bits 4-9: align the ring to 1024 bytes (the launcher adds 1 KB).
    const uint32_t ring = (smem_u32(smem_raw) + 1023u) & ~1023u;
    if (dynamic_smem_bytes() < STAGES * STAGE_BYTES + 1024) __trap();   // launcher disagrees with the layout

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, wg = warp >> 2;
    int tm, tn;
    gemm_tile_coords((M + BM - 1) / BM, (N + BN - 1) / BN, tm, tn);
    const int m0 = tm * BM, n0 = tn * BN;
    const int KT = (K + BK - 1) / BK;
    // Both layouts put warpgroup wg's operand A at +8 KB·wg: its 64 rows (K-major) or its 64-column block (MN-major).
    const uint32_t aOff = (uint32_t)wg * 8192;

    for (int z = blockIdx.y; z < batch; z += gridDim.y) {
        const T* Az = A + z * sA;
        const T* Bz = B + z * sB;
        float* Cz = C + z * sC;
        const bool vecA = (reinterpret_cast<uintptr_t>(Az) & 15) == 0 && lda % CH == 0;
        const bool vecB = (reinterpret_cast<uintptr_t>(Bz) & 15) == 0 && ldb % CH == 0;

        // A: [M][K] tile BM×BK (K-major) or [K][M] tile BK×BM; B: [N][K] tile BN×BK or [K][N] tile BK×BN.
        SwizzledLoader<T, TA ? BK : BM, TA ? BM / CH : BK / CH, !TA> la(Az, lda, TA ? 0 : m0, TA ? m0 : 0, TA ? K : M,
                                                                 TA ? M : K, tid);
        SwizzledLoader<T, TB ? BN : BK, TB ? BK / CH : BN / CH, TB> lb(Bz, ldb, TB ? n0 : 0, TB ? 0 : n0, TB ? N : K,
                                                                TB ? K : N, tid);
        auto load_stage = [&](int slot) {   // the next K slice into the slot
            const uint32_t st = ring + (uint32_t)slot * STAGE_BYTES;
            la.load(st, vecA);
            lb.load(st + A_BYTES, vecB);
        };

        float acc[R];
#pragma unroll
        for (int i = 0; i < R; ++i) acc[i] = 0.f;

#pragma unroll
        for (int s = 0; s < STAGES - 1; ++s) {
            if (s < KT) load_stage(s);
            cp_async_commit();
        }
        for (int kt = 0; kt < KT; ++kt) {
            cp_async_wait<STAGES - 2>();   // this thread's copies of slice kt have landed ...
            const uint32_t st = ring + (uint32_t)(kt % STAGES) * STAGE_BYTES;
            if constexpr (TF32) {
                la.round_tf32(st);
                lb.round_tf32(st + A_BYTES);
            }
            fence_proxy_async();           // ... and are visible to the tensor cores' reads
            __syncthreads();               // everyone's are
            const uint64_t da = smem_desc(st + aOff, A_LBO, 1024), db = smem_desc(st + A_BYTES, B_LBO, 1024);
            pin(acc);
            wgmma_fence();
#pragma unroll
            for (int s = 0; s < 4; ++s) {   // 4 k-steps of 32 bytes per row: k16 (bf16) or k8 (tf32)
                // Start addresses stay below 2^18, so adding to the 14-bit field never carries out of it.
                const uint64_t a = da + ((s * A_STEP) >> 4), b = db + ((s * B_STEP) >> 4);
                if constexpr (TF32 && BN == 256) wgmma_m64n256k8_tf32(acc, a, b);
                else if constexpr (TF32) wgmma_m64n128k8_tf32(acc, a, b);
                else if constexpr (BN == 256) wgmma_m64n256k16<TA ? 1 : 0, TB ? 0 : 1>(acc, a, b);
                else wgmma_m64n128k16<TA ? 1 : 0, TB ? 0 : 1>(acc, a, b);
            }
            wgmma_commit();
            wgmma_wait<1>();               // this warpgroup's MMAs of slice kt-1 are done
            pin(acc);
            __syncthreads();               // both warpgroups': slice kt-1's slot is free
            const int nk = kt + STAGES - 1;
            if (nk < KT) load_stage(nk % STAGES);   // = (kt-1)'s slot
            cp_async_commit();
        }
        wgmma_wait<0>();
        pin(acc);
        cp_async_wait<0>();

        // Epilogue (HOW IT WORKS, 6).
        const int g = lane >> 2, t = lane & 3;
        const bool vecC = (reinterpret_cast<uintptr_t>(Cz) & 7) == 0 && (ldc & 1) == 0 &&
                          (bias == nullptr || (reinterpret_cast<uintptr_t>(bias) & 7) == 0);
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int row = m0 + wg * 64 + (warp & 3) * 16 + g + h * 8;
            if (row >= M) continue;
            float* crow = Cz + (size_t)row * ldc;
#pragma unroll
            for (int j = 0; j < BN / 8; ++j) {
                const int col = n0 + j * 8 + 2 * t;
                float v0 = alpha * acc[4 * j + 2 * h], v1 = alpha * acc[4 * j + 2 * h + 1];
                gemm_store_pair(crow, col, N, v0, v1, beta, bias, vecC);
            }
        }
        __syncthreads();   // the next batch item's prologue reuses the stages
    }
}

// extern "C" entry points: gemm_sm90_<bf16|tf32>_<transA transB: n|t>_<l|m>, e.g. gemm_sm90_bf16_nt_l.
#define GEMM_SM90_KERNEL(NAME, T, TA, TB, BN, ST, MINB)                                                             \
    extern "C" __global__ void __launch_bounds__(THREADS, MINB)                                                    \
        NAME(int M, int N, int K, float alpha, const T* A, int lda, long long sA, const T* B, int ldb,             \
             long long sB, float beta, float* C, int ldc, long long sC, int batch, const float* bias) {            \
        wg_gemm<T, BN, ST, TA, TB>(M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch, bias);        \
    }
#define GEMM_SM90_CONFIGS(PFX, T, TA, TB)                   \
    GEMM_SM90_KERNEL(PFX##_l, T, TA, TB, 256, 4, 1)         \
    GEMM_SM90_KERNEL(PFX##_m, T, TA, TB, 128, 3, 2)
GEMM_SM90_CONFIGS(gemm_sm90_bf16_nn, bf16_t, false, false)
GEMM_SM90_CONFIGS(gemm_sm90_bf16_nt, bf16_t, false, true)
GEMM_SM90_CONFIGS(gemm_sm90_bf16_tn, bf16_t, true, false)
GEMM_SM90_CONFIGS(gemm_sm90_bf16_tt, bf16_t, true, true)
GEMM_SM90_CONFIGS(gemm_sm90_tf32_nt, float, false, true)
