#include <stddef.h>
#include <stdint.h>

#include "options.h"

/* Walks the TLV options of one packet and calls cb for each. Returns 0 or -1 on a bad packet. */
int parse_options(const uint8_t *buf, size_t len, option_cb cb, void *ctx)
{
    size_t pos = 0;

    while (pos + 2 <= len) {
        uint8_t type = buf[pos];
        uint8_t optlen = buf[pos + 1];
        pos += 2;
        if (optlen > len - pos) {
            return -1;
        }
        if (type == OPT_END) {
            return 0;
        }
        cb(ctx, type, buf + pos, optlen);
        pos += optlen;
    }
    return pos == len ? 0 : -1;
}
