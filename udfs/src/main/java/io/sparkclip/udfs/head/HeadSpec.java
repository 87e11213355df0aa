package io.sparkclip.udfs.head;

import java.io.Serializable;

/**
 * What an executor needs to run one head: its name (the column is {@code name_score}), its
 * directory as given (a local path or a Hadoop URI, localised on each executor), the output to read
 * and the embedding it reads. Only these strings travel to the executors, never a session.
 */
public record HeadSpec(String name, String dir, String output, HeadDirectory.Input input)
    implements Serializable {}
