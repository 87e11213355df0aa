package io.sparkclip.jobs.embed;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.Stages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** What an embed run did: its result, rendered for the console and written beside the output. */
public final class EmbedReport {
  private EmbedReport() {}

  /** What a run did. */
  public record Result(
      String out,
      int shards,
      int shardsSkipped,
      int shardsEmbedded,
      long rowsEmbedded,
      Map<String, Long> statusCounts,
      double secondsSaved,
      double seconds) {
    public String render() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format("embed: %s in %.1f s%n", out, seconds));
      sb.append(
          String.format(
              "  shards         %d (%d already committed, skipped; %d embedded now)%n",
              shards, shardsSkipped, shardsEmbedded));
      if (shardsSkipped > 0) {
        sb.append(
            String.format(
                "  time saved     %.1f s of shard work (as measured when the skipped shards were"
                    + " committed)%n",
                secondsSaved));
      }
      sb.append(String.format("  rows embedded  %,d", rowsEmbedded));
      if (seconds > 0 && rowsEmbedded > 0) {
        sb.append(String.format(" (%.1f pairs/s)", rowsEmbedded / seconds));
      }
      sb.append('\n');
      statusCounts.forEach((k, v) -> sb.append(String.format("    %-24s %,d%n", k, v)));
      return sb.toString();
    }
  }

  /** Writes {@code _embed_run.json}: what this run did. */
  static void write(SparkSession spark, EmbedJob.Options options, Result r, String modelId) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job", Stages.EMBED);
    m.put("input", options.input());
    m.put("output", options.out());
    m.put("model_id", modelId);
    m.put("shards", r.shards());
    m.put("shards_skipped", r.shardsSkipped());
    m.put("shards_embedded", r.shardsEmbedded());
    m.put("seconds_saved_by_skipping", Math.round(r.secondsSaved() * 10) / 10.0);
    m.put("rows_embedded_now", r.rowsEmbedded());
    m.put("embed_status", r.statusCounts());
    m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
    try {
      Paths.writeText(
          spark,
          new Path(options.out(), "_embed_run.json").toString(),
          new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
