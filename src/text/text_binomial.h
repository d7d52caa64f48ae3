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

#endif
