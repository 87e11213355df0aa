package io.sparkclip.jobs.download;

/**
 * What fetching one URL gave: the body of its final response, or why there is none.
 *
 * @param body the image bytes (null unless fetched)
 * @param status img2dataset's status for a failure ({@code failed_to_download}, {@code opted_out});
 *     null when fetched
 * @param reason a stable code of the failure ({@code http_404}, {@code timeout}, ...), counted in
 *     the summary; null when fetched
 * @param message what happened, for {@code error_message}
 * @param attempts requests made for the URL, redirects not counted
 */
record FetchOutcome(
    byte[] body,
    String contentType,
    String finalUrl,
    String status,
    String reason,
    String message,
    int attempts) {

  static FetchOutcome fetched(byte[] body, String contentType, String finalUrl, int attempts) {
    return new FetchOutcome(body, contentType, finalUrl, null, null, null, attempts);
  }

  static FetchOutcome failed(String reason, String message, int attempts) {
    return new FetchOutcome(
        null, null, null, DownloadStatus.FAILED_TO_DOWNLOAD, reason, message, attempts);
  }

  static FetchOutcome optedOut(String message, int attempts) {
    return new FetchOutcome(
        null,
        null,
        null,
        DownloadStatus.OPTED_OUT,
        DownloadStatus.REASON_OPTED_OUT,
        message,
        attempts);
  }

  boolean ok() {
    return body != null;
  }
}
