package dino4j.dino.data;

import java.util.List;

/**
 * Random-access image dataset. {@link #get} must be safe to call from several threads at once (the SSL
 * loader's workers do); errors (unreadable files) surface as unchecked exceptions naming the item.
 */
public interface ImageDataset {
    int size();

    /** Image {@code index} as float CHW in [0, 1] (3 channels for the provided datasets). */
    Image get(int index);

    /** Class label of item {@code index}, or −1 when the dataset has no labels. */
    int label(int index);

    /** Class names by label (empty when unlabelled). */
    default List<String> classNames() { return List.of(); }

    default int numClasses() { return classNames().size(); }

    default boolean hasLabels() { return numClasses() > 0; }
}
