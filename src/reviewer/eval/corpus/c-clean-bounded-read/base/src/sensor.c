#include <stddef.h>
#include <unistd.h>

#include "sensor.h"

int sensor_request(int fd, const char *cmd, size_t len)
{
    return write(fd, cmd, len) == (ssize_t)len ? 0 : -1;
}

int sensor_close(int fd)
{
    return close(fd);
}
