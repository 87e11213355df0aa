package io.sparkclip.jobs.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.schemas.Schemas;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * One WebDataset or img2dataset files sample as a row of {@link Schemas#WEBDATASET}: the image
 * member (exactly one, its bytes as they are), the caption ({@code txt}, strict UTF-8; else the
 * json's caption), the metadata json (img2dataset's fields, and the whole text), and why the sample
 * cannot be used if it cannot.
 */
final class SampleRows {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SampleRows() {}

  /**
   * The row of one sample: {@code members} by extension (the member name after the key's dot), in
   * the order read; {@code errors} found while reading it.
   */
  static Row row(
      String key, long offset, Map<String, byte[]> members, List<String> readErrors, String shard) {
    List<String> images = new ArrayList<>();
    byte[] image = null;
    String format = null;
    byte[] txt = null;
    byte[] json = null;
    for (Map.Entry<String, byte[]> m : members.entrySet()) {
      String ext = m.getKey();
      if (WebDatasetReader.isImage(ext)) {
        images.add(key + "." + ext);
        image = m.getValue();
        format = WebDatasetReader.lastPart(ext);
      } else if (ext.equalsIgnoreCase("txt")) {
        txt = m.getValue();
      } else if (ext.equalsIgnoreCase("json")) {
        json = m.getValue();
      }
    }
    List<String> errors = new ArrayList<>(readErrors);
    if (images.isEmpty()) {
      errors.add(
          "the sample has no image member (members: " + String.join(", ", members.keySet()) + ")");
    } else if (images.size() > 1) {
      errors.add(
          "the sample has " + images.size() + " image members: " + String.join(", ", images));
      image = null;
      format = null;
    }
    String caption = null;
    if (txt != null) {
      try {
        caption = utf8(txt);
      } catch (CharacterCodingException ex) {
        errors.add("the caption member " + key + ".txt is not UTF-8 text");
      }
    }
    String jsonText = null;
    JsonNode meta = null;
    if (json != null) {
      try {
        jsonText = utf8(json);
        meta = JSON.readTree(jsonText);
        if (meta != null && !meta.isObject()) {
          errors.add("the metadata member " + key + ".json is not a JSON object");
          meta = null;
        }
      } catch (CharacterCodingException ex) {
        errors.add("the metadata member " + key + ".json is not UTF-8 text");
      } catch (IOException ex) {
        errors.add("the metadata member " + key + ".json is not valid JSON");
        meta = null;
      }
    }
    if (caption == null && txt == null) {
      caption = text(meta, "caption");
    }
    if (!errors.isEmpty()) {
      // An image is passed on only from a sound sample: a cut-short member is not the image, and
      // an unusable sample is rejected whatever its image.
      image = null;
    }
    return RowFactory.create(
        key,
        text(meta, "url"),
        caption,
        image,
        format,
        text(meta, "status"),
        text(meta, "error_message"),
        integer(meta, "width"),
        integer(meta, "height"),
        integer(meta, "original_width"),
        integer(meta, "original_height"),
        text(meta, "exif"),
        text(meta, "sha256"),
        jsonText,
        shard,
        offset,
        errors.isEmpty() ? null : String.join("; ", errors));
  }

  private static String text(JsonNode meta, String field) {
    if (meta == null) {
      return null;
    }
    JsonNode v = meta.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    return v.isTextual() ? v.asText() : v.toString();
  }

  private static Integer integer(JsonNode meta, String field) {
    if (meta == null) {
      return null;
    }
    JsonNode v = meta.get(field);
    return v != null && v.isNumber() && v.canConvertToInt() ? v.intValue() : null;
  }

  private static String utf8(byte[] b) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(b))
        .toString();
  }
}
