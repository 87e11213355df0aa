package io.sparkclip.jobs.download;

import java.util.Set;

/**
 * The values of img2dataset's {@code status} column and sparkclip's reason codes ({@code
 * download_reason}): the code says why a row failed in a form the summary can count and {@code
 * --retry-failed} can select, the message ({@code error_message}) says it to a person.
 */
final class DownloadStatus {
  private DownloadStatus() {}

  static final String SUCCESS = "success";
  static final String FAILED_TO_DOWNLOAD = "failed_to_download";
  static final String FAILED_TO_RESIZE = "failed_to_resize";
  static final String OPTED_OUT = "opted_out";

  static final String REASON_BAD_URL = "bad_url";
  static final String REASON_REFUSED_ADDRESS = "refused_address";
  static final String REASON_UNKNOWN_HOST = "unknown_host";
  static final String REASON_CONNECT = "connect_error";
  static final String REASON_TIMEOUT = "timeout";
  static final String REASON_IO = "io_error";
  static final String REASON_TLS = "tls_error";
  static final String REASON_REDIRECTS = "too_many_redirects";
  static final String REASON_BAD_REDIRECT = "bad_redirect";
  static final String REASON_TOO_LARGE = "body_too_large";
  static final String REASON_EMPTY = "empty_body";
  static final String REASON_NOT_IMAGE = "not_an_image";
  static final String REASON_OPTED_OUT = "x_robots_tag";
  static final String REASON_DECODE = "decode_error";
  static final String REASON_IMAGE_TOO_LARGE = "image_too_large";
  static final String REASON_ENCODE = "encode_error";

  /** The code of an HTTP error status: {@code http_404}. */
  static String http(int code) {
    return "http_" + code;
  }

  /**
   * Codes of failures that may not happen again (the server or network was busy), which the fetcher
   * retries and {@code --retry-failed} fetches again: timeouts, connection and I/O errors, 408, 429
   * and 5xx.
   */
  static boolean transientReason(String reason) {
    if (reason == null) {
      return false;
    }
    if (TRANSIENT.contains(reason)) {
      return true;
    }
    if (reason.startsWith("http_")) {
      try {
        int code = Integer.parseInt(reason.substring(5));
        return transientHttp(code);
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return false;
  }

  static boolean transientHttp(int code) {
    return code == 408 || code == 429 || code >= 500;
  }

  private static final Set<String> TRANSIENT = Set.of(REASON_CONNECT, REASON_TIMEOUT, REASON_IO);
}
