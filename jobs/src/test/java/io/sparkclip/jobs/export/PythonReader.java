package io.sparkclip.jobs.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code export/read_export.py} with the system Python (tarfile, json and Debian's numpy,
 * which tools/setup-test-env.sh installs): the exported files read by code sparkclip did not write.
 */
final class PythonReader {
  private PythonReader() {}

  static final String PYTHON = "/usr/bin/python3";

  static JsonNode read(String... args) {
    try {
      Path script =
          Path.of(PythonReader.class.getResource("/export/read_export.py").toURI())
              .toAbsolutePath();
      List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString()));
      cmd.addAll(List.of(args));
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
      byte[] out = p.getInputStream().readAllBytes();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError("read_export.py " + String.join(" ", args) + " failed: " + err);
      }
      return new ObjectMapper().readTree(out);
    } catch (IOException | URISyntaxException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
