/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t len, char **ret) {
        const uint8_t *in = data;
        if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
                return -ENOMEM;
        char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;
        if (!out)
                return -ENOMEM;
        size_t i = 0;
        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
                *p++ = alphabet[v >> 18];
                *p++ = alphabet[(v >> 12) & 63];
                *p++ = alphabet[(v >> 6) & 63];
                *p++ = alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t) in[i] << 16 | (i + 1 < len ? (uint32_t) in[i + 1] << 8 : 0);
                *p++ = alphabet[v >> 18];
                *p++ = alphabet[(v >> 12) & 63];
                *p++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
                *p++ = '=';
        }
        *p = 0;
        *ret = out;
        return 0;
}

static int sextet(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *text, size_t len, char **ret, size_t *ret_len) {
        if (len % 4)
                return -EINVAL;
        char *out = malloc(len / 4 * 3 + 1), *p = out;
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
                int s[4];
                for (int k = 0; k < 4 - pad; k++)
                        if ((s[k] = sextet(text[i + k])) < 0)
                                goto bad;
                for (int k = 4 - pad; k < 4; k++)
                        s[k] = 0;
                uint32_t v = (uint32_t) s[0] << 18 | (uint32_t) s[1] << 12 | (uint32_t) s[2] << 6 | (uint32_t) s[3];
                *p++ = (char) (v >> 16);
                if (pad < 2)
                        *p++ = (char) (v >> 8);
                if (pad < 1)
                        *p++ = (char) v;
        }
        *p = 0;
        *ret = out;
        *ret_len = (size_t) (p - out);
        return 0;
bad:
        free(out);
        return -EINVAL;
}
