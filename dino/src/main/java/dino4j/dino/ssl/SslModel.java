package dino4j.dino.ssl;

import dino4j.dino.model.DinoVisionTransformer;
import dino4j.nn.Module;

import java.util.Random;

/**
 * Backbone + DINO head + iBOT head, registered as {@code backbone}, {@code dino_head}, {@code ibot_head}
 * exactly like the official training module, so teacher state dicts have the official prefixes.
 */
public final class SslModel extends Module {
    public final DinoVisionTransformer backbone;
    public final DinoHead dinoHead, ibotHead;

    public SslModel(SslConfig c, Random rng) {
        backbone = registerModule("backbone", new DinoVisionTransformer(c.vit, rng));
        backbone.ropeEmbed.rescale = c.ropeRescale;
        backbone.dropPath = c.dropPath;
        int d = c.vit.embedDim();
        dinoHead = registerModule("dino_head", new DinoHead(d, c.dinoPrototypes, 3, c.dinoHidden, c.dinoBottleneck, true, c.prototypeInitStd, rng));
        ibotHead = registerModule("ibot_head", new DinoHead(d, c.ibotPrototypes, 3, c.ibotHidden, c.ibotBottleneck, true, c.prototypeInitStd, rng));
    }
}
