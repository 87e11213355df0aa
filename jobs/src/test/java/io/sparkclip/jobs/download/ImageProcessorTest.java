package io.sparkclip.jobs.download;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.preprocess.Raster8;
import java.util.List;
import org.junit.jupiter.api.Test;

/** img2dataset's resize geometry, the kept bytes of mode no, and what is not an image. */
class ImageProcessorTest {
  private static ImageProcessor processor(ResizeMode mode, int size) {
    return new ImageProcessor(ImageDecoder.DEFAULT_MAX_PIXELS, mode, size, false, 95);
  }

  private static List<Integer> dims(ImageProcessor.Processed p) {
    return List.of(p.width(), p.height(), p.originalWidth(), p.originalHeight());
  }

  @Test
  void resizeModesFollowImg2datasetGeometry() throws Exception {
    byte[] jpeg = LocalImageServer.jpeg(400, 300, 1);
    assertThat(dims(processor(ResizeMode.KEEP_RATIO, 256).process(jpeg, "image/jpeg")))
        .as("keep_ratio: short side 256, 400 * 256 / 300 = 341.33 -> 341")
        .isEqualTo(List.of(341, 256, 400, 300));
    assertThat(dims(processor(ResizeMode.CENTER_CROP, 256).process(jpeg, "image/jpeg")))
        .isEqualTo(List.of(256, 256, 400, 300));
    assertThat(dims(processor(ResizeMode.BORDER, 256).process(jpeg, "image/jpeg")))
        .isEqualTo(List.of(256, 256, 400, 300));
    assertThat(dims(processor(ResizeMode.KEEP_RATIO, 600).process(jpeg, "image/jpeg")))
        .as("upscaled unless resize-only-if-bigger")
        .isEqualTo(List.of(800, 600, 400, 300));
    ImageProcessor onlyBigger =
        new ImageProcessor(ImageDecoder.DEFAULT_MAX_PIXELS, ResizeMode.KEEP_RATIO, 600, true, 95);
    assertThat(dims(onlyBigger.process(jpeg, "image/jpeg"))).isEqualTo(List.of(400, 300, 400, 300));
    ImageProcessor.Processed no = processor(ResizeMode.NO, 256).process(jpeg, "image/jpeg");
    assertThat(no.image()).as("mode no keeps the downloaded bytes").isSameAs(jpeg);
    assertThat(dims(no)).isEqualTo(List.of(400, 300, 400, 300));
  }

  @Test
  void borderPadsWithWhiteAroundTheCentredImage() throws Exception {
    // A black 200 x 100 image: border 100 -> 100 x 50 centred, white rows above and below.
    java.awt.image.BufferedImage img =
        new java.awt.image.BufferedImage(200, 100, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", png);
    ImageProcessor.Processed p =
        processor(ResizeMode.BORDER, 100).process(png.toByteArray(), "image/png");
    Raster8 r = ImageDecoder.defaults().decode(p.image());
    assertThat(List.of(r.width, r.height)).isEqualTo(List.of(100, 100));
    int top = r.data[(5 * 100 + 50) * 3] & 0xff;
    int middle = r.data[(50 * 100 + 50) * 3] & 0xff;
    int bottom = r.data[(95 * 100 + 50) * 3] & 0xff;
    assertThat(List.of(top, middle, bottom))
        .as("white pad, black image, white pad (JPEG-close)")
        .satisfies(
            v -> {
              assertThat(v.get(0)).isGreaterThan(245);
              assertThat(v.get(1)).isLessThan(10);
              assertThat(v.get(2)).isGreaterThan(245);
            });
  }

  /**
   * A JPEG with an EXIF APP1 segment after SOI: a little-endian TIFF header and IFD0 holding Make
   * ("TestCam") and Orientation (6).
   */
  static byte[] withExif(byte[] jpeg) {
    java.io.ByteArrayOutputStream tiff = new java.io.ByteArrayOutputStream();
    int[] header = {'I', 'I', 42, 0, 8, 0, 0, 0};
    for (int b : header) {
      tiff.write(b);
    }
    // IFD0: 2 entries, then the next-IFD offset 0, then the Make string at offset 8+2+24+4 = 38.
    int[] ifd = {
      2, 0, 0x0F, 0x01, 2, 0, 8, 0, 0, 0, 38, 0, 0, 0, // Make, ASCII, count 8, offset 38
      0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // Orientation, SHORT, 1, value 6
      0, 0, 0, 0
    };
    for (int b : ifd) {
      tiff.write(b);
    }
    tiff.writeBytes("TestCam\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    byte[] t = tiff.toByteArray();
    int len = 2 + 6 + t.length;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0xFF);
    out.write(0xD8);
    out.write(0xFF);
    out.write(0xE1);
    out.write(len >> 8);
    out.write(len & 0xFF);
    out.writeBytes("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    out.writeBytes(t);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  @Test
  void exifIsKeyedAsImg2datasetKeysIt() {
    byte[] jpeg = withExif(LocalImageServer.jpeg(60, 40, 3));
    ImageProcessor.Processed p = processor(ResizeMode.NO, 256).process(jpeg, "image/jpeg");
    assertThat(p.status()).isEqualTo(DownloadStatus.SUCCESS);
    assertThat(p.exif())
        .as("exif JSON")
        .contains("\"Image Make\":\"TestCam\"")
        .contains("\"Image Orientation\":\"6\"");
    ImageProcessor.Processed none =
        processor(ResizeMode.NO, 256).process(LocalImageServer.png(10, 10, 4), "image/png");
    assertThat(none.exif()).as("no EXIF").isEqualTo("{}");
  }

  @Test
  void nonImagesAndBrokenImagesSayWhy() {
    ImageProcessor p = processor(ResizeMode.NO, 256);
    ImageProcessor.Processed html =
        p.process("<html><head><title>404</title></head></html>".getBytes(), "text/html");
    assertThat(html.status()).isEqualTo(DownloadStatus.FAILED_TO_DOWNLOAD);
    assertThat(html.reason()).isEqualTo(DownloadStatus.REASON_NOT_IMAGE);
    assertThat(html.message()).contains("HTML").contains("text/html");
    assertThat(html.sha256()).as("the hash of what was downloaded").hasSize(64);
    byte[] jpeg = LocalImageServer.jpeg(120, 90, 2);
    ImageProcessor.Processed cut = p.process(LocalImageServer.truncated(jpeg, 300), "image/jpeg");
    assertThat(cut.status()).isEqualTo(DownloadStatus.FAILED_TO_RESIZE);
    assertThat(cut.reason()).isEqualTo(DownloadStatus.REASON_DECODE);
    ImageProcessor small =
        new ImageProcessor(10_000, ResizeMode.NO, 256, false, 95); // 120 x 90 > 10,000 pixels
    ImageProcessor.Processed bomb = small.process(jpeg, "image/jpeg");
    assertThat(bomb.status()).isEqualTo(DownloadStatus.FAILED_TO_RESIZE);
    assertThat(bomb.reason()).isEqualTo(DownloadStatus.REASON_IMAGE_TOO_LARGE);
  }
}
