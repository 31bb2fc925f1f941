package dino4j.tensor.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a file so that a reader, or a process killed at any moment, sees either the old file or the whole new one:
 * the bytes go to a temporary file beside it, are forced to disk, and the temporary file is renamed over it.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** Something that writes a file's bytes to a stream. */
    @FunctionalInterface
    public interface Writer { void write(OutputStream out) throws IOException; }

    /** Writes {@code file} through {@code writer} atomically; creates the parent folder. */
    public static void write(Path file, Writer writer) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20)) {
                writer.write(os);
                os.flush();
                ch.force(true);
            }
            // createTempFile makes it owner-only; the result should be readable like any file the user writes
            if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class))
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException ex) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
