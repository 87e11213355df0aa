package io.sparkclip.jobs.export;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One unit of an export: a WebDataset shard, a clip-retrieval part (three files) or the DataComp
 * uid file. A unit is complete when its files are in place and its marker {@code
 * _progress/<index>.json} (this record) exists; tasks write the marker last, so a re-run can trust
 * it and redo every unit without one.
 */
record Unit(int index, long rows, List<AtomicFile.Written> files) implements Serializable {

  /** In a fixed key order (Map.of's order varies between JVMs, and the manifest must not). */
  Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("index", index);
    m.put("rows", rows);
    m.put("files", files.stream().map(Unit::file).toList());
    return m;
  }

  static Map<String, Object> file(AtomicFile.Written w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", w.path());
    m.put("bytes", w.bytes());
    m.put("sha256", w.sha256());
    return m;
  }

  @SuppressWarnings("unchecked")
  static Unit fromJson(Map<String, Object> m) {
    List<AtomicFile.Written> files =
        ((List<Map<String, Object>>) m.get("files"))
            .stream()
                .map(
                    f ->
                        new AtomicFile.Written(
                            (String) f.get("path"),
                            ((Number) f.get("bytes")).longValue(),
                            (String) f.get("sha256")))
                .toList();
    return new Unit(
        ((Number) m.get("index")).intValue(), ((Number) m.get("rows")).longValue(), files);
  }
}
