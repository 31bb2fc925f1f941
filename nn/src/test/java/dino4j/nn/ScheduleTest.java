package dino4j.nn;

import dino4j.nn.optim.Schedules;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ScheduleTest {
    @Test void v2WarmupExcludesEndpointCosineUsesCMinusOne() {
        double start = 1e-6, peak = 1e-3, end = 1e-5;
        int w = 10, c = 21, total = 40;
        double[] s = Schedules.warmupCosineConstant(start, peak, end, w, c, total);
        assertEquals(total, s.length);
        assertEquals(start, s[0], 0);
        assertEquals(start + (peak - start) * 9 / 10.0, s[9], 1e-18);          // last warm-up value < peak
        assertTrue(s[9] < peak);
        assertEquals(peak, s[10], 1e-18);                                         // cosine starts at peak
        assertEquals(end + (peak - end) * (1 + Math.cos(Math.PI * 10 / 20)) / 2, s[20], 1e-18); // midpoint (i=10 of C-1=20)
        assertEquals((peak + end) / 2, s[20], 1e-15);
        assertEquals(end, s[30], 1e-18);                                          // cosine ends exactly at end
        for (int i = 31; i < total; i++) assertEquals(end, s[i], 0);
        // C defaults to all remaining; peak == end gives the fixed schedule after warm-up
        double[] d = Schedules.warmupCosineConstant(0, 1, 0, 4, 12);
        assertEquals(12, d.length);
        assertEquals(0.75, d[3], 1e-15);
        assertEquals(1, d[4], 1e-15);
        assertEquals(0, d[11], 1e-15);
        double[] fixed = Schedules.warmupCosineConstant(0.04, 0.07, 0.07, 3, 10);
        assertEquals(0.05, fixed[1], 1e-15);
        for (int i = 3; i < 10; i++) assertEquals(0.07, fixed[i], 1e-15);
        assertEquals(0.07, Schedules.at(fixed, 1000), 0);
        assertThrows(IllegalArgumentException.class, () -> Schedules.warmupCosineConstant(0, 1, 0, 5, 10, 12));
    }

    @Test void v1WarmupIncludesEndpointCosineOverN() {
        double peak = 2e-3, fin = 1e-6;
        int w = 5, total = 25, n = total - w;
        double[] s = Schedules.warmupCosine(peak, fin, w, total);
        assertEquals(total, s.length);
        assertEquals(0, s[0], 0);
        assertEquals(peak / 4, s[1], 1e-18);
        assertEquals(peak, s[4], 0);                        // warm-up linspace includes the peak
        assertEquals(peak, s[5], 1e-18);                    // cosine i=0 is the peak again
        assertEquals(fin + 0.5 * (peak - fin) * (1 + Math.cos(Math.PI * 10 / n)), s[15], 1e-18); // midpoint i=10 of n=20
        assertEquals((peak + fin) / 2, s[15], 1e-15);
        assertEquals(fin + 0.5 * (peak - fin) * (1 + Math.cos(Math.PI * 19 / 20)), s[24], 1e-18);
        assertTrue(s[24] > fin);                            // the last value has not reached final yet (i/n < 1)
        assertEquals(s[24], Schedules.at(s, 24), 0);
        // freeze iterations (last-layer lr) are zeros ahead of the warm-up
        double[] fz = Schedules.warmupCosine(1, 0, 2, 10, 0, 3);
        assertArrayEquals(new double[]{0, 0, 0, 0, 1}, java.util.Arrays.copyOf(fz, 5), 0);
        double[] lin = Schedules.linear(0.994, 1.0, 4);
        assertEquals(0.994, lin[0], 0);
        assertEquals(0.996, lin[1], 1e-15);
        assertEquals(1.0, lin[3], 0);
    }
}
