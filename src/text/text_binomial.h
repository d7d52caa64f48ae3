/* Exact binomial tail probabilities for the text watermark detectors. */
#ifndef AIMARK_TEXT_BINOMIAL_H
#define AIMARK_TEXT_BINOMIAL_H

#include <stdint.h>

/*
 * Natural logarithm of P(X >= k) for X ~ Binomial(n, p), 0 < p < 1, summed
 * term by term from the probability mass function (log-gamma for the first
 * term, the ratio of consecutive terms after it), so it stays accurate far
 * below the smallest double: the result is finite for every k <= n.
 * Returns 0 (probability 1) for k == 0 and -INFINITY for k > n.
 */
double aimark__text_binom_log_sf(uint64_t n, uint64_t k, double p);

/* Largest support of a per-trial score for aimark__text_iid_log_sf(). */
#define AIMARK__TEXT_IID_MAX_SCORE 64u

/*
 * Natural logarithm of P(S >= s) for S the sum of n independent scores, each
 * an integer 0..w (w <= AIMARK__TEXT_IID_MAX_SCORE) with probabilities
 * pmf[0..w] (summing to 1). Exact (dynamic programming over the partial
 * sums, keeping only those that can still reach s but have not yet) when
 * n * s * (w + 1) <= budget; otherwise the Chernoff bound
 * min over t >= 0 of n log E[e^(t X)] - t s, which is never below the exact
 * value. Returns 0 for s == 0, -INFINITY for s > n * w, and 1.0 (not a
 * logarithm: an out-of-memory signal) when the work array cannot be had.
 */
double aimark__text_iid_log_sf(const double *pmf, unsigned w, uint64_t n, uint64_t s, uint64_t budget);

#endif
