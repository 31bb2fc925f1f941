package dino4j.dino.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

/** Every command answers --help with its usage and exit status 0 (the README sends users there for the options). */
class HelpTest {
    @Test
    void everyCommandAnswersHelp() {
        CommandLine main = new CommandLine(new Main());
        for (String name : main.getSubcommands().keySet()) {
            if (name.equals("help")) continue;
            StringWriter out = new StringWriter();
            CommandLine cl = new CommandLine(new Main());
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute(name, "--help"), name + " --help");
            assertTrue(out.toString().startsWith("Usage: dino4j " + name), name + ": " + out);
        }
    }

    @Test
    void pretrainHelpListsItsOptionsWithDefaults() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("pretrain", "-h"));
        for (String o : new String[]{"--data", "--epochs", "--resume", "--from-weights", "--knn-features", "--matmul"})
            assertTrue(out.toString().contains(o), o + " missing from: " + out);
    }
}
