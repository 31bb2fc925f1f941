package dino4j.dino.model;

import dino4j.autograd.Var;

/**
 * What feature extraction needs from a DINOv3 backbone, ViT or ConvNeXt: the {@code forward_features} outputs
 * (§1.12) of an image batch [B, 3, H, W], the token width, the pixel stride of one output token, and a one-line
 * description for logs and file metadata.
 */
public interface Backbone {
    /** Eval-mode features of images [B, 3, H, W] (normalised with the model's mean/std). */
    Features forwardFeatures(Var x);

    /** Token width D of the outputs. */
    int embedDim();

    /** Pixels per output token along each axis: the ViT patch size (16), the ConvNeXt output stride (32). */
    int patchSize();

    /** One line naming the architecture and its shape. */
    String describe();
}
