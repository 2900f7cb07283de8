#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_LOG "/var/log/helper.log"

int main(int argc, char **argv)
{
    const char *msg = argc > 1 ? argv[1] : "";
    int fd = open(DEFAULT_LOG, O_WRONLY | O_APPEND | O_CREAT, 0640);

    if (fd < 0) {
        perror("open");
        return 1;
    }
    dprintf(fd, "%s\n", msg);
    close(fd);
    return 0;
}
