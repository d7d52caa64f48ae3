/*
 * Binomial upper tail. Above the mean the terms of the tail decrease from
 * the first, so the sum is accumulated relative to it and stops once a term
 * no longer changes the sum; below the mean the complement (the lower tail,
 * whose terms decrease downwards from k - 1) is summed instead.
 */
#include <math.h>

#include "text/text_binomial.h"

static double log_pmf(uint64_t n, uint64_t k, double lp, double lq)
{
	int sign;
	double c = lgamma_r((double)n + 1.0, &sign) - lgamma_r((double)k + 1.0, &sign) -
		   lgamma_r((double)(n - k) + 1.0, &sign);
	return c + (double)k * lp + (double)(n - k) * lq;
}

double aimark__text_binom_log_sf(uint64_t n, uint64_t k, double p)
{
	if (k == 0)
		return 0.0;
	if (k > n)
		return -INFINITY;
	double lp = log(p), lq = log1p(-p), ratio = p / (1.0 - p);
	if ((double)k >= (double)n * p) {
		/* sum_{i >= k} pmf(i) = pmf(k) * (1 + r_k + r_k r_{k+1} + ...) */
		double sum = 1.0, term = 1.0;
		for (uint64_t i = k; i < n; i++) {
			term *= (double)(n - i) / (double)(i + 1) * ratio;
			double next = sum + term;
			if (next == sum)
				break;
			sum = next;
		}
		return log_pmf(n, k, lp, lq) + log(sum);
	}
	/* P(X >= k) = 1 - P(X <= k - 1), the lower tail summed downwards */
	double sum = 1.0, term = 1.0;
	for (uint64_t i = k - 1; i > 0; i--) {
		term *= (double)i / ((double)(n - i + 1) * ratio);
		double next = sum + term;
		if (next == sum)
			break;
		sum = next;
	}
	double lower = exp(log_pmf(n, k - 1, lp, lq) + log(sum));
	/* for k at or below the mean the upper tail is at least about 1/2 */
	return lower < 1.0 ? log1p(-lower) : log(0.5);
}
