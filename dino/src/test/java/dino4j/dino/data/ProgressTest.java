package dino4j.dino.data;

import me.tongfei.progressbar.ProgressBar;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Redirected output (a log, CI) gets whole lines with the full message, never carriage-return redraws. */
class ProgressTest {
    @Test
    void logsGetWholeReadableLines() {
        assumeFalse(Progress.interactive(), "needs redirected output, as under Maven");
        PrintStream old = System.err;
        var buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try (ProgressBar pb = Progress.bar("task", 10, 100).setUnit(" steps", 1).startsFrom(4, java.time.Duration.ZERO).build()) {
            pb.stepTo(7);
            pb.setExtraMessage(" loss 1.234 dino g/l 8.000/8.000 ibot 4.000 koleo 0.500 targets H 7.00/7.00 of 8.32 lr 1.00e-04 90.0 img/s wait 1%");
        } finally {
            System.setErr(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), out);
        String last = out.lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("task") && last.contains("7/10 steps") && last.endsWith("wait 1%"), out);
    }
}
