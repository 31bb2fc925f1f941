package dino4j.tensor;

/** bfloat16 bit conversions (float16 uses the JDK's Float.floatToFloat16 / float16ToFloat). */
final class Half {
    private Half() {}

    static short f32ToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40); // quiet NaN, keep sign
        int rounding = 0x7fff + ((bits >>> 16) & 1); // round to nearest, ties to even
        return (short) ((bits + rounding) >>> 16);
    }

    static float bf16ToF32(short h) { return Float.intBitsToFloat((h & 0xffff) << 16); }
}
