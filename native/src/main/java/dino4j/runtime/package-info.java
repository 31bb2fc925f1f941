/**
 * Device runtime: the JCuda context and stream ({@link dino4j.runtime.CudaContext}), the caching allocator,
 * pinned staging for transfers, module loading from the classpath and cached kernel handles, and cuBLAS
 * where its library loads. Java keeps {@code native} as a keyword, so the package is {@code dino4j.runtime}.
 */
package dino4j.runtime;
