#include <stdio.h>
#include <time.h>

#include "logprefix.h"

/* Writes "[2024-05-01T10:00:00Z host unit] " into out, which holds LOG_PREFIX_MAX bytes. */
int log_prefix(char *out, const char *host, const char *unit, time_t now)
{
    char stamp[32];
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sprintf(out, "[%s %s %s] ", stamp, host, unit);
    return 0;
}
