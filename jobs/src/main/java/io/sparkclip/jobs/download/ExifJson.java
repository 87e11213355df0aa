package io.sparkclip.jobs.download;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Directory;
import com.drew.metadata.Metadata;
import com.drew.metadata.Tag;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifInteropDirectory;
import com.drew.metadata.exif.ExifSubIFDDirectory;
import com.drew.metadata.exif.ExifThumbnailDirectory;
import com.drew.metadata.exif.GpsDirectory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code exif} column: the EXIF tags of the downloaded bytes as a JSON object, keyed the way
 * img2dataset's exifread keys them (IFD prefix {@code Image}, {@code EXIF}, {@code GPS}, {@code
 * Interoperability}, {@code Thumbnail} and the tag name without spaces, e.g. {@code "Image Make"},
 * {@code "EXIF DateTimeOriginal"}), values as raw strings; {@code {}} for an image without EXIF,
 * null when the metadata cannot be parsed. Read with metadata-extractor; maker notes and long
 * binary values are left out (exifread's {@code details=False}).
 */
final class ExifJson {
  private ExifJson() {}

  /** Longer values (embedded thumbnails, binary blobs) are left out. */
  static final int MAX_VALUE_CHARS = 512;

  private static final ObjectMapper JSON = new ObjectMapper();

  static String of(byte[] image) {
    Metadata m;
    try {
      m = ImageMetadataReader.readMetadata(new ByteArrayInputStream(image), image.length);
    } catch (Exception | StackOverflowError e) {
      // A hostile or broken metadata block must not fail the row: the image itself decoded.
      return null;
    }
    Map<String, String> tags = new TreeMap<>();
    for (Directory d : m.getDirectories()) {
      String prefix = prefix(d);
      if (prefix == null) {
        continue;
      }
      for (Tag t : d.getTags()) {
        String v = d.getString(t.getTagType());
        if (v == null || v.length() > MAX_VALUE_CHARS || t.getTagName().startsWith("Makernote")) {
          continue;
        }
        tags.put(prefix + " " + t.getTagName().replaceAll("[^A-Za-z0-9]", ""), v.strip());
      }
    }
    try {
      return JSON.writeValueAsString(tags);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String prefix(Directory d) {
    if (d instanceof ExifIFD0Directory) {
      return "Image";
    }
    if (d instanceof ExifSubIFDDirectory) {
      return "EXIF";
    }
    if (d instanceof GpsDirectory) {
      return "GPS";
    }
    if (d instanceof ExifInteropDirectory) {
      return "Interoperability";
    }
    if (d instanceof ExifThumbnailDirectory) {
      return "Thumbnail";
    }
    return null;
  }
}
