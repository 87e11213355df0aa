package io.sparkclip.jobs.export;

import java.util.Locale;
import java.util.Set;

/**
 * The file extension of an image member of a WebDataset sample. Readers pick the image by extension
 * (open_clip: {@code jpg;png;jpeg;webp}), and the bytes are exported as they are, so the extension
 * must say what the bytes are: it comes from their magic number, and only when the bytes are of no
 * known format from the URL's path (what the server claimed), then {@code jpg}, the format
 * img2dataset names its image column after.
 */
final class ImageExtension {
  private ImageExtension() {}

  static final String FALLBACK = "jpg";

  private static final Set<String> KNOWN = Set.of("jpg", "png", "webp", "gif", "bmp");

  static String of(byte[] b, String url) {
    String magic = fromMagic(b);
    if (magic != null) {
      return magic;
    }
    String fromUrl = fromUrl(url);
    return fromUrl != null ? fromUrl : FALLBACK;
  }

  /** jpg, png, webp, gif or bmp by the file signature; null when none matches. */
  static String fromMagic(byte[] b) {
    if (b == null) {
      return null;
    }
    if (starts(b, 0xff, 0xd8, 0xff)) {
      return "jpg";
    }
    if (starts(b, 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a)) {
      return "png";
    }
    if (b.length >= 12
        && starts(b, 'R', 'I', 'F', 'F')
        && b[8] == 'W'
        && b[9] == 'E'
        && b[10] == 'B'
        && b[11] == 'P') {
      return "webp";
    }
    if (starts(b, 'G', 'I', 'F', '8', '7', 'a') || starts(b, 'G', 'I', 'F', '8', '9', 'a')) {
      return "gif";
    }
    if (starts(b, 'B', 'M')) {
      return "bmp";
    }
    return null;
  }

  /** The known image extension of the URL's path (jpeg as jpg); null when it has none. */
  static String fromUrl(String url) {
    if (url == null) {
      return null;
    }
    String path = url;
    int cut = indexOfAny(path, '?', '#');
    if (cut >= 0) {
      path = path.substring(0, cut);
    }
    int slash = path.lastIndexOf('/');
    int dot = path.lastIndexOf('.');
    if (dot < 0 || dot < slash) {
      return null;
    }
    String ext = path.substring(dot + 1).toLowerCase(Locale.ROOT);
    if (ext.equals("jpeg")) {
      ext = "jpg";
    }
    return KNOWN.contains(ext) ? ext : null;
  }

  private static int indexOfAny(String s, char a, char b) {
    int i = s.indexOf(a);
    int j = s.indexOf(b);
    return i < 0 ? j : j < 0 ? i : Math.min(i, j);
  }

  private static boolean starts(byte[] b, int... sig) {
    if (b.length < sig.length) {
      return false;
    }
    for (int i = 0; i < sig.length; i++) {
      if ((b[i] & 0xff) != sig[i]) {
        return false;
      }
    }
    return true;
  }
}
