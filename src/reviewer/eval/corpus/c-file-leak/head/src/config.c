#include <stdio.h>
#include <string.h>

#include "config.h"

#define CONFIG_MAGIC "# agent-config v2"

int config_load(const char *path, struct config *cfg)
{
    char line[256];
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        return -1;
    }
    if (fgets(line, sizeof(line), fp) == NULL ||
        strncmp(line, CONFIG_MAGIC, strlen(CONFIG_MAGIC)) != 0) {
        return -1;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        config_parse_line(cfg, line);
    }
    fclose(fp);
    return 0;
}
