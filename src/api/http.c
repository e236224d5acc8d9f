/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"

void http_request_done(HttpRequest *r) {
        if (!r)
                return;
        free(r->head);
        free(r->path);
        free(r->query);
        free(r->body);
        *r = (HttpRequest) {};
}

const char *http_header(const HttpRequest *r, const char *name) {
        for (size_t i = 0; i < r->n_headers; i++)
                if (strcasecmp(r->headers[i].name, name) == 0)
                        return r->headers[i].value;
        return NULL;
}

static bool token_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               strchr("!#$%&'*+-.^_`|~", c);
}

/* Whether a comma-separated header value holds token (case-insensitively). */
static bool list_has(const char *value, const char *token) {
        size_t tl = strlen(token);
        for (const char *p = value; p && *p;) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                const char *e = p;
                while (*e && *e != ',')
                        e++;
                const char *end = e;
                while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                        end--;
                if ((size_t) (end - p) == tl && strncasecmp(p, token, tl) == 0)
                        return true;
                p = e;
        }
        return false;
}

int http_parse_head(const char *buf, size_t len, HttpRequest *ret, RtError *err) {
        if (len > HTTP_MAX_HEADER_BYTES)
                return rt_err_setx(err, -E2BIG, "request header larger than %d bytes", HTTP_MAX_HEADER_BYTES);
        if (memchr(buf, 0, len))
                return rt_err_setx(err, -EBADMSG, "NUL byte in the request header");
        HttpRequest r = { .content_length = -1 };
        /* copied by length: buf is the connection's buffer, with no terminator */
        if (!(r.head = malloc(len + 1)))
                return rt_err_set(err, -ENOMEM, "request");
        memcpy(r.head, buf, len);
        r.head[len] = 0;
        int e = -EBADMSG;
        const char *why = "malformed request line";
        char *line = r.head, *next = strstr(line, "\r\n");
        if (!next)
                goto bad;
        *next = 0;
        /* METHOD SP TARGET SP HTTP/1.x */
        char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2 || sp1 == line || (size_t) (sp1 - line) >= sizeof r.method || strchr(sp2 + 1, ' '))
                goto bad;
        for (char *m = line; m < sp1; m++)
                if (*m < 'A' || *m > 'Z')
                        goto bad;
        memcpy(r.method, line, (size_t) (sp1 - line));
        char *target = sp1 + 1;
        *sp2 = 0;
        if (target[0] != '/' || strlen(target) > HTTP_MAX_TARGET)
                goto bad;
        for (char *t = target; *t; t++)
                if ((unsigned char) *t <= ' ' || *t == 0x7f)
                        goto bad;
        if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
                r.minor = 1;
        else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
                r.minor = 0;
        else {
                why = "not HTTP/1.0 or HTTP/1.1";
                goto bad;
        }
        char *q = strchr(target, '?');
        if (!(r.path = q ? strndup(target, (size_t) (q - target)) : strdup(target)) ||
            !(r.query = strdup(q ? q + 1 : ""))) {
                e = rt_err_set(err, -ENOMEM, "request");
                goto out;
        }

        why = "malformed header";
        const char *connection = NULL;
        for (line = next + 2; *line; line = next + 2) {
                next = strstr(line, "\r\n");
                if (!next)
                        goto bad;
                *next = 0;
                if (!*line)
                        break; /* the empty line */
                if (r.n_headers >= HTTP_MAX_HEADERS) {
                        e = rt_err_setx(err, -E2BIG, "more than %d request headers", HTTP_MAX_HEADERS);
                        goto out;
                }
                char *colon = strchr(line, ':');
                if (!colon || colon == line)
                        goto bad;
                for (char *n = line; n < colon; n++)
                        if (!token_char(*n))
                                goto bad;
                *colon = 0;
                char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                char *end = v + strlen(v);
                while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                        *--end = 0;
                for (char *c = v; *c; c++)
                        if ((unsigned char) *c < ' ' && *c != '\t')
                                goto bad;
                r.headers[r.n_headers++] = (HttpHeader) { line, v };
                if (strcasecmp(line, "Content-Length") == 0) {
                        char *ep;
                        errno = 0;
                        long long cl = strtoll(v, &ep, 10);
                        if (!*v || *ep || errno || cl < 0 ||
                            (r.content_length >= 0 && r.content_length != cl)) {
                                why = "bad Content-Length";
                                goto bad;
                        }
                        r.content_length = cl;
                } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
                        if (strcasecmp(v, "chunked") != 0) {
                                why = "unsupported Transfer-Encoding";
                                e = -EOPNOTSUPP;
                                goto bad;
                        }
                        r.chunked = true;
                } else if (strcasecmp(line, "Connection") == 0)
                        connection = v;
        }
        /* RFC 9112 §6.3: both framings is a smuggling attempt */
        if (r.chunked && r.content_length >= 0) {
                why = "both Content-Length and chunked";
                goto bad;
        }
        r.keep_alive = r.minor == 1 ? !(connection && list_has(connection, "close"))
                                    : connection && list_has(connection, "keep-alive");
        const char *up = http_header(&r, "Upgrade");
        if (connection && list_has(connection, "upgrade") && up && *up && strlen(up) < sizeof r.upgrade)
                (void) snprintf(r.upgrade, sizeof r.upgrade, "%s", up);
        *ret = r;
        return 0;
bad:
        e = rt_err_setx(err, e, "bad request: %s", why);
out:
        http_request_done(&r);
        return e;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

enum { CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILERS, CHUNK_DONE };

int http_chunk_next(HttpChunkReader *cr, const char *in, size_t len, size_t *ret_used, size_t *ret_data,
                    size_t *ret_data_len) {
        *ret_used = *ret_data = *ret_data_len = 0;
        switch (cr->state) {
        case CHUNK_SIZE: {
                /* hex digits, optional ;extensions, CRLF */
                /* at most 1024 bytes, wherever the CRLF is: the same verdict however the
                 * bytes arrive */
                const char *crlf = memmem(in, len < 1026 ? len : 1026, "\r\n", 2);
                if (!crlf)
                        return len >= 1026 ? -EBADMSG : -EAGAIN;
                uint64_t size = 0;
                const char *p = in;
                int digits = 0;
                for (; p < crlf && hexval(*p) >= 0; p++, digits++) {
                        if (size > (UINT64_MAX >> 4))
                                return -E2BIG;
                        size = size * 16 + (uint64_t) hexval(*p);
                }
                if (!digits || (p < crlf && *p != ';' && *p != ' ' && *p != '\t'))
                        return -EBADMSG;
                *ret_used = (size_t) (crlf - in) + 2;
                cr->left = size;
                cr->state = size ? CHUNK_DATA : CHUNK_TRAILERS;
                return 0;
        }
        case CHUNK_DATA: {
                if (len == 0)
                        return -EAGAIN;
                size_t n = cr->left < len ? (size_t) cr->left : len;
                *ret_used = *ret_data_len = n;
                cr->left -= n;
                if (!cr->left)
                        cr->state = CHUNK_DATA_END;
                return 0;
        }
        case CHUNK_DATA_END:
                if (len < 2)
                        return len == 1 && in[0] != '\r' ? -EBADMSG : -EAGAIN;
                if (in[0] != '\r' || in[1] != '\n')
                        return -EBADMSG;
                *ret_used = 2;
                cr->state = CHUNK_SIZE;
                return 0;
        case CHUNK_TRAILERS: {
                /* trailer lines, then the final empty line */
                const char *t = memmem(in, len < 8194 ? len : 8194, "\r\n", 2);
                if (!t)
                        return len >= 8194 ? -EBADMSG : -EAGAIN;
                *ret_used = (size_t) (t - in) + 2;
                /* trailers are read and dropped: a client sending them without end would
                 * hold the connection for nothing */
                cr->trailer_bytes += *ret_used;
                if (cr->trailer_bytes > HTTP_MAX_TRAILER_BYTES)
                        return -E2BIG;
                if (t != in)
                        return 0;
                cr->state = CHUNK_DONE;
                return 1;
        }
        default:
                return 1;
        }
}

int http_chunked_decode(const char *in, size_t len, size_t max, char **ret, size_t *ret_len, size_t *ret_consumed) {
        HttpChunkReader cr = {};
        size_t pos = 0, out_len = 0;
        char *out = NULL;
        int r;
        do {
                size_t used, data, n;
                r = http_chunk_next(&cr, in + pos, len - pos, &used, &data, &n);
                /* what the body has announced, refused before it arrives */
                if (r >= 0 && out_len + n + http_chunk_pending(&cr) > max)
                        r = -E2BIG;
                if (r < 0) {
                        free(out);
                        return r;
                }
                if (n) {
                        char *grown = realloc(out, out_len + n + 1);
                        if (!grown) {
                                free(out);
                                return -ENOMEM;
                        }
                        out = grown;
                        memcpy(out + out_len, in + pos + data, n);
                        out_len += n;
                }
                pos += used;
        } while (r == 0);
        if (!out && !(out = malloc(1)))
                return -ENOMEM;
        out[out_len] = 0;
        *ret = out;
        *ret_len = out_len;
        *ret_consumed = pos;
        return 0;
}

int http_unescape(const char *in, size_t len, bool query, char **ret) {
        char *out = malloc(len + 1), *o = out;
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (c == '%') {
                        int a = i + 1 < len ? hexval(in[i + 1]) : -1, b = i + 2 < len ? hexval(in[i + 2]) : -1;
                        if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                                free(out);
                                return -EBADMSG;
                        }
                        *o++ = (char) (a * 16 + b);
                        i += 2;
                } else if (c == '+' && query)
                        *o++ = ' ';
                else if (c == 0) {
                        free(out);
                        return -EBADMSG;
                } else
                        *o++ = c;
        }
        *o = 0;
        *ret = out;
        return 0;
}

char *http_query_get(const char *query, const char *key, unsigned nth) {
        size_t kl = strlen(key);
        for (const char *p = query; p && *p;) {
                const char *amp = strchr(p, '&');
                size_t seg = amp ? (size_t) (amp - p) : strlen(p);
                const char *eq = memchr(p, '=', seg);
                size_t klen = eq ? (size_t) (eq - p) : seg;
                char *k = NULL;
                if (http_unescape(p, klen, true, &k) == 0 && strlen(k) == kl && strcmp(k, key) == 0) {
                        free(k);
                        if (nth-- == 0) {
                                char *v = NULL;
                                if (http_unescape(eq ? eq + 1 : p + seg, eq ? seg - klen - 1 : 0, true, &v) < 0)
                                        return NULL;
                                return v;
                        }
                } else
                        free(k);
                p = amp ? amp + 1 : NULL;
        }
        return NULL;
}

int http_parse_bool(const char *s, bool *ret) {
        if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
                *ret = true;
                return 0;
        }
        if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || !*s) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

const char *http_status_text(int status) {
        switch (status) {
        case 101: return "UPGRADED";
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Payload Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        default: return "Unknown";
        }
}
