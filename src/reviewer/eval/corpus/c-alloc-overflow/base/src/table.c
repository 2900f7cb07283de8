#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "table.h"

int table_read_header(FILE *fp, struct table_header *hdr)
{
    if (fread(hdr, sizeof(*hdr), 1, fp) != 1) {
        return -1;
    }
    return hdr->magic == TABLE_MAGIC ? 0 : -1;
}

void table_free(struct table *t)
{
    free(t->data);
    t->data = NULL;
    t->count = 0;
}
