#include <string.h>
#include <time.h>

#include "status.h"

void status_init(struct status_record *rec, int unit)
{
    memset(rec, 0, sizeof(*rec));
    rec->unit = unit;
    rec->updated = time(NULL);
}

int status_is_stale(const struct status_record *rec, time_t now)
{
    return now - rec->updated > STATUS_MAX_AGE;
}
