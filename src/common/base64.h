/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Standard base64 (RFC 4648 §4) with padding: the encoding Go's encoding/json gives a
 * []byte, so libcni's cache files hold it. *ret is malloc'd and NUL-terminated. */
int base64_encode(const void *data, size_t len, char **ret);
/* Strict: padding required, no whitespace, no other alphabet; -EINVAL otherwise. */
int base64_decode(const char *text, size_t len, char **ret, size_t *ret_len);
