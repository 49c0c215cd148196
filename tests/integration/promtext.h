/*
 * promtext: a strict checker of the Prometheus text exposition format 0.0.4, for tests
 * (promtool is not installed by scripts/setup; this checks what promtool's linter would reject
 * and more): every line is a comment (# HELP name text, # TYPE name type), or a sample
 * `name{label="value",...} value [timestamp]` with valid metric and label names, escaped label
 * values, a parseable float; a family has at most one HELP and one TYPE, the TYPE comes before
 * its samples, a family's samples are contiguous, no series appears twice, counters are named
 * *_total and never negative, and the text ends with a newline.
 */
#ifndef TESTS_PROMTEXT_H
#define TESTS_PROMTEXT_H

#include <stddef.h>

#define PROMTEXT_ERROR_MAX 256 /* bytes of the error message */

/*
 * Check text. Returns the number of samples (>= 0), or -1 with the problem in err (line number
 * and reason).
 */
int promtext_check(const char *text, char *err, size_t err_size);

/*
 * The value of the sample whose name and label string match exactly (labels as written, e.g.
 * "program=\"w\""; "" for none); 0 and *ret set, or -1 when absent.
 */
int promtext_value(const char *text, const char *name, const char *labels, double *ret);

/* The type declared for family name ("counter"...), copied into buf; 0 or -1 when absent. */
int promtext_type(const char *text, const char *name, char *buf, size_t size);

#endif
