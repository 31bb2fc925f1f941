package dino4j.dino.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class MaskGeneratorTest {
    @Test void stratifiedCountsMatchSpecExample() {
        // spec §4.3: B = 16, P = 256 → 16 of 32 crops masked with 32, 38, 44, …, 121, 128 patches
        int[] c = MaskGenerator.maskedCounts(32, 256, 0.5, 0.1, 0.5);
        assertEquals(16, c.length);
        assertEquals(32, c[0]);
        assertEquals(38, c[1]);
        assertEquals(44, c[2]);
        assertEquals(121, c[14]);
        assertEquals(128, c[15]);
        for (int i = 0; i < c.length; i++)
            assertEquals((int) Math.floor(256 * (0.1 + 0.4 * (i + 1) / 16.0) + 1e-9), c[i], "i=" + i);
        assertEquals(0, MaskGenerator.maskedCounts(1, 64, 0.5, 0.1, 0.5).length);
        assertArrayEquals(new int[]{32}, MaskGenerator.maskedCounts(2, 64, 0.5, 0.1, 0.5));
    }

    @Test void exactCountsForEveryTarget() {
        Random r = new Random(11);
        for (int[] g : new int[][]{{16, 16}, {8, 8}, {14, 14}, {2, 2}, {4, 7}}) {
            MaskGenerator mg = new MaskGenerator(g[0], g[1]);
            for (int t = 0; t <= mg.numPatches() / 2 + 1 && t <= mg.numPatches(); t++)
                for (int rep = 0; rep < 3; rep++)
                    assertEquals(t, MaskGenerator.count(mg.generate(r, t)), "grid " + Arrays.toString(g) + " T=" + t);
        }
    }

    @Test void blocksAreContiguousWhenTheyFit() {
        // a single block of ≤ maxblock cells: on a 16×16 grid, T = 20 is normally one or two rectangles
        MaskGenerator mg = new MaskGenerator(16, 16);
        boolean[] m = mg.generate(new Random(3), 20);
        int neighbours = 0;
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++)
                if (m[i * 16 + j] && ((j + 1 < 16 && m[i * 16 + j + 1]) || (i + 1 < 16 && m[(i + 1) * 16 + j]))) neighbours++;
        assertTrue(neighbours >= 10, "masked cells should be mostly in blocks, got " + neighbours + " adjacent pairs");
    }

    @Test void batchMasksFractionAndCounts() {
        MaskGenerator mg = new MaskGenerator(8, 8);
        Random r = new Random(5);
        for (int B : new int[]{1, 2, 3, 8}) {
            int M = 2 * B;
            int[] expect = MaskGenerator.maskedCounts(M, 64, 0.5, 0.1, 0.5);
            boolean[][] masks = mg.sampleBatch(r, M);
            assertEquals(M, masks.length);
            int[] got = Arrays.stream(masks).mapToInt(MaskGenerator::count).filter(x -> x > 0).sorted().toArray();
            assertEquals(B, expect.length);
            assertArrayEquals(Arrays.stream(expect).filter(x -> x > 0).sorted().toArray(), got);
        }
        // the masked crops land in both halves (crop 0 and crop 1) over many batches
        int first = 0, second = 0;
        for (int t = 0; t < 200; t++) {
            boolean[][] masks = mg.sampleBatch(r, 8);
            for (int i = 0; i < 8; i++) if (MaskGenerator.count(masks[i]) > 0) { if (i < 4) first++; else second++; }
        }
        assertEquals(800, first + second);
        assertTrue(first > 300 && second > 300, first + " / " + second);
    }

    @Test void deterministicGivenSeed() {
        MaskGenerator mg = new MaskGenerator(14, 14);
        boolean[][] a = mg.sampleBatch(new Random(9), 6), b = mg.sampleBatch(new Random(9), 6);
        for (int i = 0; i < 6; i++) assertArrayEquals(a[i], b[i]);
    }
}
