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

int table_read(FILE *fp, struct table *t)
{
    struct table_header hdr;
    uint32_t bytes;

    if (table_read_header(fp, &hdr) != 0 || hdr.rec_size == 0) {
        return -1;
    }
    bytes = hdr.count * hdr.rec_size;
    t->data = malloc(bytes);
    if (t->data == NULL) {
        return -1;
    }
    if (fread(t->data, hdr.rec_size, hdr.count, fp) != hdr.count) {
        table_free(t);
        return -1;
    }
    t->count = hdr.count;
    t->rec_size = hdr.rec_size;
    return 0;
}

void table_free(struct table *t)
{
    free(t->data);
    t->data = NULL;
    t->count = 0;
}
