package io.sparkclip.jobs.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.schemas.Columns;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * The metadata of an exported row, in a fixed field order: uid, key, url, caption, query (when the
 * input has them) and every score column. Scores stay numbers; a NaN or infinite score (JSON has no
 * such number) and a missing one are null.
 */
final class SampleJson {
  private SampleJson() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  static Map<String, Object> fields(
      Row row, String key, boolean hasUrl, boolean hasQuery, List<String> scores) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(Columns.UID, row.getAs(Columns.UID));
    m.put(Columns.KEY, key);
    if (hasUrl) {
      m.put(Columns.URL, row.getAs(Columns.URL));
    }
    m.put(Columns.CAPTION, row.getAs(Columns.CAPTION));
    if (hasQuery) {
      m.put(Columns.QUERY, row.getAs(Columns.QUERY));
    }
    for (String s : scores) {
      m.put(s, number(row.getAs(s)));
    }
    return m;
  }

  static byte[] bytes(Map<String, Object> fields) {
    try {
      return JSON.writeValueAsBytes(fields);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static Object number(Object v) {
    if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
      return null;
    }
    if (v instanceof Float f && (f.isNaN() || f.isInfinite())) {
      return null;
    }
    return v;
  }
}
