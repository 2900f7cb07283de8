#include <poll.h>
#include <stddef.h>
#include <unistd.h>

#include "sensor.h"

int sensor_request(int fd, const char *cmd, size_t len)
{
    return write(fd, cmd, len) == (ssize_t)len ? 0 : -1;
}

/* Reads one reply line (without its newline) into buf of size bytes. */
int sensor_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t used = 0;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    if (size == 0) {
        return -1;
    }
    while (used < size - 1) {
        char c;
        if (poll(&pfd, 1, timeout_ms) <= 0 || read(fd, &c, 1) != 1) {
            break;
        }
        if (c == '\n') {
            buf[used] = '\0';
            return (int)used;
        }
        buf[used++] = c;
    }
    buf[used] = '\0';
    return -1;
}

int sensor_close(int fd)
{
    return close(fd);
}
