package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.download.DownloadOptions;
import io.sparkclip.jobs.download.DownloadStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "download",
    mixinStandardHelpOptions = true,
    description = {
      "Fetch the images of URL + caption metadata on the executors and write img2dataset's",
      "Parquet layout (url, caption, key, status, error_message, width, height, original_width,",
      "original_height, exif, sha256, jpg, download_reason, the metadata's other columns).",
      "Every row is kept: status success, failed_to_download, failed_to_resize or opted_out",
      "(X-Robots-Tag noai, noimageai, noindex, noimageindex), with the reason.",
      "SSRF-safe by default: only http(s), and no host resolving to a loopback, private,",
      "link-local, multicast or unspecified address, also after each redirect.",
      "Resumable: each metadata file is one shard committed atomically; a re-run skips",
      "committed shards, --retry-failed fetches their transient failures again."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip download laion-meta/ --out /tmp/pairs",
      "  sparkclip download cc12m.tsv --url-col url --caption-col caption \\",
      "      --resize-mode center_crop --image-size 256 --out s3a://b/cc12m",
      "  sparkclip download laion-meta/ --out /tmp/pairs --retry-failed",
      "",
      "Next: sparkclip dedup /tmp/pairs --out /tmp/dedup, or sparkclip export /tmp/pairs"
          + " --format webdataset --out /tmp/wds"
    })
public final class DownloadCommand extends StageCommand<DownloadOptions> {
  @Parameters(
      index = "0",
      paramLabel = "INPUT",
      description = "Metadata: a Parquet, CSV or TSV file (gzip allowed) or a folder of them.")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + DownloadOptions.RESIZE_MODE,
      description =
          "no (keep the downloaded bytes), keep_ratio, center_crop or border, as img2dataset"
              + " (default: "
              + DownloadOptions.RESIZE_MODE_DEFAULT
              + ").")
  String resizeMode;

  @Option(
      names = "--" + DownloadOptions.IMAGE_SIZE,
      description =
          "Target side of the resize modes (default: " + DownloadOptions.IMAGE_SIZE_DEFAULT + ").")
  int imageSize;

  @Option(
      names = "--" + DownloadOptions.RESIZE_ONLY_IF_BIGGER,
      description = "Never upscale: resize only images larger than the target.")
  boolean resizeOnlyIfBigger;

  @Option(
      names = "--" + DownloadOptions.ENCODE_QUALITY,
      description =
          "JPEG quality of resized images (default: "
              + DownloadOptions.ENCODE_QUALITY_DEFAULT
              + ").")
  int encodeQuality;

  @Option(
      names = "--" + DownloadOptions.REQUESTS_IN_FLIGHT,
      description =
          "Requests in flight per task (default: "
              + DownloadOptions.REQUESTS_IN_FLIGHT_DEFAULT
              + "). Throughput is about tasks x this / latency.")
  int requestsInFlight;

  @Option(
      names = "--" + DownloadOptions.PER_HOST_REQUESTS,
      description =
          "Requests in flight per task to one host (default: "
              + DownloadOptions.PER_HOST_REQUESTS_DEFAULT
              + ").")
  int perHostRequests;

  @Option(
      names = "--" + DownloadOptions.ROWS_PER_TASK,
      description =
          "Rows of a shard per Spark task (default: "
              + DownloadOptions.ROWS_PER_TASK_DEFAULT
              + ").")
  int rowsPerTask;

  @Option(
      names = "--" + DownloadOptions.CONCURRENT_SHARDS,
      description = "Shards downloaded at once (default: the default parallelism).")
  int concurrentShards;

  @Option(
      names = "--" + DownloadOptions.CONNECT_TIMEOUT_MS,
      description =
          "Connect timeout (default: " + DownloadOptions.CONNECT_TIMEOUT_MS_DEFAULT + " ms).")
  long connectTimeoutMs;

  @Option(
      names = "--" + DownloadOptions.TIMEOUT_MS,
      description =
          "One request until its response headers (default: "
              + DownloadOptions.TIMEOUT_MS_DEFAULT
              + " ms).")
  long timeoutMs;

  @Option(
      names = "--" + DownloadOptions.TOTAL_TIMEOUT_MS,
      description =
          "One URL in all, redirects, retries and body included (default: "
              + DownloadOptions.TOTAL_TIMEOUT_MS_DEFAULT
              + " ms).")
  long totalTimeoutMs;

  @Option(
      names = "--" + DownloadOptions.MAX_REDIRECTS,
      description = "Redirects followed (default: " + DownloadOptions.MAX_REDIRECTS_DEFAULT + ").")
  int maxRedirects;

  @Option(
      names = "--" + DownloadOptions.MAX_BODY_BYTES,
      description =
          "Largest body read; larger ones fail with body_too_large (default: "
              + DownloadOptions.MAX_BODY_BYTES_DEFAULT
              + ").")
  long maxBodyBytes;

  @Option(
      names = "--" + DownloadOptions.RETRIES,
      description =
          "Extra attempts after a timeout, connection error, 408, 429 or 5xx (default: "
              + DownloadOptions.RETRIES_DEFAULT
              + "); 4xx are not retried.")
  int retries;

  @Option(
      names = "--" + DownloadOptions.RETRY_BACKOFF_MS,
      description =
          "Wait before the first retry, doubled for each next (default: "
              + DownloadOptions.RETRY_BACKOFF_MS_DEFAULT
              + " ms).")
  long retryBackoffMs;

  @Option(names = "--" + DownloadOptions.USER_AGENT, description = "The User-Agent header.")
  String userAgent;

  @Option(
      names = "--" + DownloadOptions.USER_AGENT_TOKEN,
      description =
          "Token of X-Robots-Tag values addressed to this crawler (default: "
              + DownloadOptions.USER_AGENT_TOKEN_DEFAULT
              + "; values for img2dataset apply too).")
  String userAgentToken;

  @Option(
      names = "--" + DownloadOptions.DISALLOWED_HEADER_DIRECTIVES,
      split = ",",
      description =
          "X-Robots-Tag directives that opt an image out (default: noai,noimageai,noindex,noimageindex).")
  List<String> disallowedHeaderDirectives;

  @Option(
      names = "--" + DownloadOptions.ALLOW_PRIVATE_ADDRESSES,
      description =
          "Allow loopback, private and link-local hosts (intranet crawls; off by default).")
  boolean allowPrivateAddresses;

  @Option(
      names = "--" + DownloadOptions.MAX_PIXELS,
      description =
          "Largest image decoded (decompression-bomb guard; default: "
              + DownloadOptions.MAX_PIXELS_DEFAULT
              + ").")
  long maxPixels;

  @Option(
      names = "--" + DownloadOptions.RETRY_FAILED,
      description = "Fetch again the transient failures of committed shards, in place.")
  boolean retryFailed;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Redo every shard (deletes the output first).")
  boolean overwrite;

  @Mixin MappingOptions mapping;

  @Override
  Stage<DownloadOptions> stage() {
    return new DownloadStage();
  }
}
