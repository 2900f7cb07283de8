#include <string.h>
#include <time.h>

#include "status.h"

void status_init(struct status_record *rec, int unit)
{
    memset(rec, 0, sizeof(*rec));
    rec->unit = unit;
    rec->updated = time(NULL);
}

int status_set_name(struct status_record *rec, const char *name)
{
    size_t n = strlen(name);

    if (n > sizeof(rec->name)) {
        return -1;
    }
    memcpy(rec->name, name, n);
    rec->name[n] = '\0';
    return 0;
}

int status_is_stale(const struct status_record *rec, time_t now)
{
    return now - rec->updated > STATUS_MAX_AGE;
}
