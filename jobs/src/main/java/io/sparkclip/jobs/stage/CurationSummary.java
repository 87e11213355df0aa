package io.sparkclip.jobs.stage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a curation job did: rows in, out and rejected per stage and reason. Written as {@code
 * _summary.json} next to the output and printed at the end of the command.
 */
public record CurationSummary(
    String job,
    String input,
    String output,
    long rowsIn,
    long rowsOut,
    Map<String, Map<String, Long>> rejected,
    Map<String, Object> details,
    double seconds) {

  public long rowsRejected() {
    return rejected.values().stream()
        .flatMap(m -> m.values().stream())
        .mapToLong(Long::longValue)
        .sum();
  }

  /** rows in = rows out + rows rejected, exactly. */
  public boolean balanced() {
    return rowsIn == rowsOut + rowsRejected();
  }

  /** Rejected rows of one reason, over all stages. */
  public long rejected(String reason) {
    return rejected.values().stream().mapToLong(m -> m.getOrDefault(reason, 0L)).sum();
  }

  public String toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job", job);
    m.put("input", input);
    m.put("output", output);
    m.put("rows_in", rowsIn);
    m.put("rows_out", rowsOut);
    m.put("rows_rejected", rowsRejected());
    m.put("accounting_balanced", balanced());
    m.put("rejected", rejected);
    m.put("details", details);
    m.put("seconds", Math.round(seconds * 10) / 10.0);
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m)
          + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("summary is plain maps and numbers", e);
    }
  }

  public String render() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%s: %s -> %s in %.1f s%n", job, input, output, seconds));
    sb.append(String.format("  rows in        %,d%n", rowsIn));
    sb.append(String.format("  rows out       %,d%n", rowsOut));
    sb.append(String.format("  rows rejected  %,d%n", rowsRejected()));
    rejected.forEach(
        (stage, reasons) ->
            reasons.forEach(
                (reason, n) ->
                    sb.append(String.format("    %-22s %-26s %,d%n", stage, reason, n))));
    details.forEach((k, v) -> sb.append(String.format("  %-14s %s%n", k, v)));
    sb.append(
        balanced()
            ? "  accounting     ok (in = out + rejected)\n"
            : "  accounting     MISMATCH (in != out + rejected)\n");
    return sb.toString();
  }
}
