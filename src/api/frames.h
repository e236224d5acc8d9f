/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* The multiplexed stream of logs, attach and exec without a terminal (spec 5.2): frames
 * of an 8-byte header (stream 1 stdout or 2 stderr, three zero bytes, the length big
 * endian) and the bytes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A frame never carries more than this of one log line (a longer line is cut). */
#define API_FRAME_LOG_MAX 70000

int api_frame_write(int fd, uint8_t stream, const char *data, size_t len);

struct CtrLogLine;
/* One parsed log line as a frame (its timestamp first with stamps), when its stream is
 * wanted; a P line without its newline. */
int api_log_frame_line(int fd, const struct CtrLogLine *l, bool want_out, bool want_err, bool stamps);

/* Writes the complete k8s-file log lines of text ("<time> <stdout|stderr> <F|P> <text>",
 * the container's output: outside input) as frames, a P line without its newline, after
 * skipping skip_lines; lines that do not parse are passed over. Returns the bytes used
 * (a last line without its newline is left for the next call), or -errno. */
int api_log_frames(int fd, const char *text, size_t len, bool want_out, bool want_err, bool stamps,
                   long skip_lines);
