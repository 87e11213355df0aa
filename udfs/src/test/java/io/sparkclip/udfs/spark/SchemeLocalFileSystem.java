package io.sparkclip.udfs.spark;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/** The local disk under a non-{@code file} scheme, so tests go through the Hadoop copy path. */
public class SchemeLocalFileSystem extends RawLocalFileSystem {
  public static final String SCHEME = "sclocal";

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }
}
