/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every benchmark here needs: a clock and medians (style: medians, never single
 * absolute times, on a shared and noisy machine). */

#include <stdlib.h>
#include <time.h>

static inline double bench_now_ms(void) {
        struct timespec t;
        (void) clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Sorts v in place. */
static inline double bench_median(double *v, size_t n) {
        qsort(v, n, sizeof *v, bench_cmp_double);
        return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
