/*
 * Exact upper tails for the text watermark detectors.
 *
 * Binomial upper tail. Above the mean the terms of the tail decrease from
 * the first, so the sum is accumulated relative to it and stops once a term
 * no longer changes the sum; below the mean the complement (the lower tail,
 * whose terms decrease downwards from k - 1) is summed instead.
 *
 * Sums of independent small integer scores (the tournament's hinge score):
 * dynamic programming over the partial sums, or a Chernoff bound past a
 * work budget.
 */
#include <math.h>

#include "core/internal.h"
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

/* log E[e^(t X)] for X distributed as pmf[0..w], and E_t[X] under the tilted law */
static double log_mgf(const double *pmf, unsigned w, double t, double *tilted_mean)
{
	double m = -INFINITY;
	for (unsigned k = 0; k <= w; k++)
		if (pmf[k] > 0.0 && t * k + log(pmf[k]) > m)
			m = t * k + log(pmf[k]);
	double sum = 0.0, first = 0.0;
	for (unsigned k = 0; k <= w; k++)
		if (pmf[k] > 0.0) {
			double e = exp(t * k + log(pmf[k]) - m);
			sum += e;
			first += e * k;
		}
	*tilted_mean = first / sum;
	return m + log(sum);
}

/* The Chernoff bound: the exponent is convex in t, minimal where the tilted mean is s / n. */
static double chernoff_log_sf(const double *pmf, unsigned w, uint64_t n, uint64_t s)
{
	double target = (double)s / (double)n, mean;
	log_mgf(pmf, w, 0.0, &mean);
	if (target <= mean)
		return 0.0;
	double lo = 0.0, hi = 1.0;
	while (hi < 1e6) {
		log_mgf(pmf, w, hi, &mean);
		if (mean >= target)
			break;
		hi *= 2.0;
	}
	for (int i = 0; i < 200; i++) {
		double mid = 0.5 * (lo + hi);
		log_mgf(pmf, w, mid, &mean);
		if (mean < target)
			lo = mid;
		else
			hi = mid;
	}
	/* any t gives a valid bound; take the better end of the final bracket */
	double b_lo = (double)n * log_mgf(pmf, w, lo, &mean) - lo * (double)s;
	double b_hi = (double)n * log_mgf(pmf, w, hi, &mean) - hi * (double)s;
	double b = b_lo < b_hi ? b_lo : b_hi;
	return b < 0.0 ? b : 0.0;
}

static double log_add(double a, double b)
{
	if (a == -INFINITY)
		return b;
	if (b == -INFINITY)
		return a;
	return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

double aimark__text_iid_log_sf(const double *pmf, unsigned w, uint64_t n, uint64_t s, uint64_t budget)
{
	if (s == 0)
		return 0.0;
	if (w == 0 || n == 0 || s > n * (uint64_t)w)
		return -INFINITY;
	if ((double)n * (double)s * (double)(w + 1) > (double)budget)
		return chernoff_log_sf(pmf, w, n, s);
	/*
	 * cur[v] is the (scaled) probability that the partial sum is v < s after
	 * the trials so far; sums that reached s are added to `done` (they stay
	 * there whatever follows), sums that can no longer reach s are dropped.
	 * Both buffers are rescaled every step so nothing underflows; `scale` is
	 * the logarithm of the factor taken out.
	 */
	double *cur = aimark__calloc((size_t)s, sizeof *cur);
	double *next = aimark__calloc((size_t)s, sizeof *next);
	if (cur == NULL || next == NULL) {
		aimark__free(cur);
		aimark__free(next);
		return 1.0;
	}
	cur[0] = 1.0;
	uint64_t a = 0, b = 1; /* live range [a, b) */
	double scale = 0.0, log_done = -INFINITY;
	for (uint64_t t = 0; t < n; t++) {
		uint64_t left = n - t - 1; /* trials after this one */
		uint64_t lo = left * w >= s ? 0 : s - left * w;
		uint64_t na = a > lo ? a : lo;
		uint64_t nb = b + w < s ? b + w : s;
		for (uint64_t v = na; v < nb; v++)
			next[v] = 0.0;
		double done = 0.0;
		for (uint64_t u = a; u < b; u++) {
			double c = cur[u];
			if (c == 0.0)
				continue;
			for (unsigned k = 0; k <= w; k++) {
				uint64_t v = u + k;
				if (v >= s)
					done += c * pmf[k];
				else if (v >= na)
					next[v] += c * pmf[k];
			}
		}
		if (done > 0.0)
			log_done = log_add(log_done, scale + log(done));
		double total = 0.0;
		for (uint64_t v = na; v < nb; v++)
			total += next[v];
		if (!(total > 0.0) || na >= nb) {
			a = b = 0;
			break;
		}
		for (uint64_t v = na; v < nb; v++)
			next[v] /= total;
		scale += log(total);
		double *tmp = cur;
		cur = next;
		next = tmp;
		a = na;
		b = nb;
	}
	aimark__free(cur);
	aimark__free(next);
	return log_done < 0.0 ? log_done : 0.0;
}
