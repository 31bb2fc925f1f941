/**
 * Device runtime: JCuda context, streams, the caching allocator and module loading arrive with the
 * CUDA backend (issue 5). Java keeps {@code native} as a keyword, so the package is {@code dino4j.runtime}.
 */
package dino4j.runtime;
