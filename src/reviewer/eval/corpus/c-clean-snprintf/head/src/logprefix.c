#include <stdio.h>
#include <time.h>

#include "logprefix.h"

/* Writes "[2024-05-01T10:00:00Z host unit] " into out, which holds LOG_PREFIX_MAX bytes.
 * Returns -1 when the prefix would not fit (out then holds a truncated, terminated prefix). */
int log_prefix(char *out, const char *host, const char *unit, time_t now)
{
    char stamp[32];
    struct tm tm;
    int n;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = snprintf(out, LOG_PREFIX_MAX, "[%s %s %s] ", stamp, host, unit);
    if (n < 0 || (size_t)n >= LOG_PREFIX_MAX) {
        return -1;
    }
    return 0;
}
