package dino4j.dino.data;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;

/**
 * Progress bars for long work. On a terminal: a live bar redrawn in place every {@code refreshMillis}. Redirected to
 * a file or pipe (a log, CI, nohup) there is nothing to redraw, and carriage-return updates cut to an unknown
 * width are unreadable there: the bar is printed as a whole line every {@link #LOG_INTERVAL_MILLIS} instead.
 */
public final class Progress {
    private Progress() {}

    /** One full line per this many milliseconds when the output is not a terminal. */
    public static final int LOG_INTERVAL_MILLIS = 30_000;
    /** Width of a line in logs: room for pretrain's loss terms with a bar of about 40 characters. */
    static final int LOG_LINE_CHARS = 300;

    /** True when standard output and error go to an interactive terminal. */
    public static boolean interactive() {
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** A bar builder for {@code task} counting to {@code max}, in the mode that suits where the output goes. */
    public static ProgressBarBuilder bar(String task, long max, int refreshMillis) {
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII);
        if (interactive()) return b.setUpdateIntervalMillis(refreshMillis);
        return b.setUpdateIntervalMillis(LOG_INTERVAL_MILLIS)
                .setConsumer(new DelegatingProgressBarConsumer(System.err::println, LOG_LINE_CHARS));
    }
}
