package dino4j.dino.model;

import dino4j.autograd.Var;

/**
 * The official {@code forward_features} outputs (§1.12): normed CLS [B, D], storage tokens after the final
 * norm [B, R, D], normed patch tokens [B, h·w, D] (row-major) and the pre-norm sequence [B, 1+R+h·w, D].
 */
public record Features(Var clsToken, Var storageTokens, Var patchTokens, Var prenorm, int gridH, int gridW) {
    public static final String CLS = "x_norm_clstoken", STORAGE = "x_storage_tokens", PATCH = "x_norm_patchtokens", PRENORM = "x_prenorm";
}
