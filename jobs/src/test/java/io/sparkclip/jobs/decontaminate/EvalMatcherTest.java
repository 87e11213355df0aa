package io.sparkclip.jobs.decontaminate;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.stage.copydetect.CandidateKeys;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The eval side's keys: band neighbours (multi-probe on the small side) and hot-key splitting. */
class EvalMatcherTest {
  static long[] bands(long phash) {
    return LongStream.range(0, 4)
        .map(b -> CandidateKeys.key((int) b, (phash >>> (16 * b)) & 0xFFFFL))
        .toArray();
  }

  static boolean shareAKey(long[] a, long[] b) {
    return Arrays.stream(a).anyMatch(x -> Arrays.stream(b).anyMatch(y -> y == x));
  }

  @Test
  void aPoolHashWithinSevenBitsAlwaysMeetsTheEvalSideSomewhere() {
    SplittableRandom r = new SplittableRandom(3);
    long[] none = new long[0];
    for (int t = 0; t < 2_000; t++) {
      long eval = r.nextLong();
      long pool = eval;
      int flips = 1 + r.nextInt(7);
      for (int f = 0; f < flips; ) {
        long bit = 1L << r.nextInt(64);
        if ((pool & bit) == (eval & bit)) {
          pool ^= bit;
          f++;
        }
      }
      long[] evalKeys =
          EvalMatcher.effectiveKeys(EvalMatcher.withBandNeighbours(bands(eval), eval), none);
      long[] poolKeys = EvalMatcher.effectiveKeys(bands(pool), none);
      assertThat(shareAKey(poolKeys, evalKeys))
          .as("pHash %d bits apart (pigeonhole: one band within 1 bit)", flips)
          .isTrue();
      assertThat(flips > 3 || shareAKey(EvalMatcher.effectiveKeys(bands(eval), none), poolKeys))
          .as("exact bands alone meet within 3 bits")
          .isTrue();
    }
  }

  @Test
  void hotKeysPairIntoSubKeysAndHotNeighboursAreDropped() {
    long[] own = {CandidateKeys.key(0, 1), CandidateKeys.key(1, 2), CandidateKeys.key(4, 3)};
    long[] all = EvalMatcher.withBandNeighbours(own, 0x0100_0200_0300_0400L);
    long hotNeighbour = all[own.length + 1 + 5];
    long[] hot = {own[0], own[1], hotNeighbour};
    Arrays.sort(hot);
    long[] eff = EvalMatcher.effectiveKeys(all, hot);
    assertThat(eff).as("a key few eval images hold stays").contains(own[2]);
    assertThat(eff).as("hot own keys are replaced").doesNotContain(own[0], own[1]);
    assertThat(eff)
        .as("by the sub-key of their pair")
        .contains(EvalMatcher.subKey(Math.min(own[0], own[1]), Math.max(own[0], own[1])));
    assertThat(eff).as("a hot neighbour key is dropped").doesNotContain(hotNeighbour);
    assertThat(eff).as("the separator never is a key").doesNotContain(EvalMatcher.NEIGHBOURS_MARK);
    assertThat(eff.length).as("own: 1 kept + 1 sub-key; neighbours: 64 - 1 hot").isEqualTo(2 + 63);
  }
}
