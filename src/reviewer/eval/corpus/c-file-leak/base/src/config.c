#include <stdio.h>
#include <string.h>

#include "config.h"

int config_load(const char *path, struct config *cfg)
{
    char line[256];
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        config_parse_line(cfg, line);
    }
    fclose(fp);
    return 0;
}
