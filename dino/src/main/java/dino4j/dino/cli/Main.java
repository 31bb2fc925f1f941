package dino4j.dino.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The dino4j command line ({@code ./dino4j <command>}). */
@Command(name = "dino4j", mixinStandardHelpOptions = true, version = "dino4j 0.1.0",
        description = "DINOv3 in pure Java: train, distill and use DINOv3-style models on the JVM.",
        subcommands = {InfoCommand.class, FashionCommand.class, PretrainCommand.class,
                EmbedCommand.class, PcaCommand.class, KnnCommand.class, LinearCommand.class, HeadsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Override public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        int rc = new CommandLine(new Main())
                .setExecutionExceptionHandler((ex, cl, parsed) -> {
                    // user-facing errors: one clear line (the message names the file, key or option); stack trace with DINO4J_DEBUG=1
                    cl.getErr().println("dino4j: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
                    if (System.getenv("DINO4J_DEBUG") != null) ex.printStackTrace(cl.getErr());
                    return 1;
                })
                .execute(args);
        System.exit(rc);
    }
}
