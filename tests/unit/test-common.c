/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "filecache.h"
#include "fileio.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "proc.h"

static void set_appends_errno_text(void **state) {
        RtError e = {};
        assert_int_equal(rt_err_set(&e, -EEXIST, "create bridge '%s'", "br-lab"), -EEXIST);
        assert_int_equal(e.code, -EEXIST);
        assert_string_equal(e.msg, "create bridge 'br-lab': File exists");
}

static void setx_is_exact(void **state) {
        RtError e = {};
        assert_int_equal(rt_err_setx(&e, -EINVAL, "name '%s' is bad", "x/y"), -EINVAL);
        assert_string_equal(e.msg, "name 'x/y' is bad");
}

static void prefix_adds_context_in_front(void **state) {
        RtError e = {};
        (void) rt_err_set(&e, -EEXIST, "create veth 'eth1'");
        assert_int_equal(rt_err_prefix(&e, -EEXIST, "connect %s of %s to %s", "eth1", "lab-a",
                                       "br-lab"),
                         -EEXIST);
        assert_string_equal(e.msg, "connect eth1 of lab-a to br-lab: create veth 'eth1': File exists");
}

static void prefix_on_empty_error_gets_errno_text(void **state) {
        RtError e = {};
        (void) rt_err_prefix(&e, -ENOENT, "open '%s'", "x");
        assert_string_equal(e.msg, "open 'x': No such file or directory");
}

static void null_error_object_is_allowed(void **state) {
        assert_int_equal(rt_err_set(NULL, -EIO, "x"), -EIO);
        assert_int_equal(rt_err_setx(NULL, -EIO, "x"), -EIO);
        assert_int_equal(rt_err_prefix(NULL, -EIO, "x"), -EIO);
}

static void long_messages_are_truncated_not_overflowed(void **state) {
        RtError e = {};
        char big[2000];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        (void) rt_err_set(&e, -EIO, "%s", big);
        assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
        (void) rt_err_prefix(&e, -EIO, "%s", big);
        assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
}

static void errno_names(void **state) {
        char b[16];
        assert_string_equal(errno_name(-EEXIST, b), "EEXIST");
        assert_string_equal(errno_name(ENOENT, b), "ENOENT");
        assert_string_equal(errno_name(-4000, b), "E4000");
}

static void log_levels_parse(void **state) {
        assert_int_equal(log_level_from_string("debug"), LOG_LEVEL_DEBUG);
        assert_int_equal(log_level_from_string("WARN"), LOG_LEVEL_WARNING);
        assert_int_equal(log_level_from_string("warning"), LOG_LEVEL_WARNING);
        assert_int_equal(log_level_from_string("loud"), _LOG_LEVEL_INVALID);
        assert_int_equal(log_level_from_string(NULL), _LOG_LEVEL_INVALID);
        assert_string_equal(log_level_to_string(LOG_LEVEL_INFO), "info");
}

static void log_errno_returns_negative(void **state) {
        log_set_level(LOG_LEVEL_ERROR);
        assert_int_equal(log_debug_errno(EPERM, "hidden"), -EPERM);
        assert_int_equal(log_debug_errno(-EPERM, "hidden"), -EPERM);
        assert_int_equal(log_debug("hidden"), 0);
}

static void numbers_parse_strictly(void **state) {
        uint32_t u;
        int32_t i;
        uint64_t u64;
        assert_int_equal(safe_atou32("42", &u), 0);
        assert_int_equal(u, 42);
        assert_int_equal(safe_atou32("4294967295", &u), 0);
        assert_int_equal(safe_atou32("4294967296", &u), -ERANGE);
        assert_int_equal(safe_atou32("-1", &u), -EINVAL);
        assert_int_equal(safe_atou32(" 1", &u), -EINVAL);
        assert_int_equal(safe_atou32("1x", &u), -EINVAL);
        assert_int_equal(safe_atou32("", &u), -EINVAL);
        assert_int_equal(safe_atou32("+1", &u), -EINVAL);
        assert_int_equal(safe_atou64("18446744073709551616", &u64), -ERANGE);
        assert_int_equal(safe_atoi32("-2147483648", &i), 0);
        assert_int_equal(i, INT32_MIN);
        assert_int_equal(safe_atoi32("2147483648", &i), -ERANGE);
        assert_int_equal(safe_atoi32("-", &i), -EINVAL);
        assert_int_equal(safe_atou32_range("64", 0, 32, &u), -ERANGE);
        assert_int_equal(safe_atou32_range("0", 0, 32, &u), 0);
}

static void durations_parse_as_podman_flags_take_them(void **state) {
        uint64_t ms = 0;
        const struct {
                const char *text;
                uint64_t ms;
        } good[] = { { "60", 60000 }, { "60s", 60000 }, { "500ms", 500 }, { "1m30s", 90000 },
                     { "1.5s", 1500 }, { "2h", 7200000 }, { "0.25m", 15000 }, { "0", 0 } };
        for (size_t k = 0; k < ELEMENTSOF(good); k++) {
                assert_int_equal(parse_duration_ms(good[k].text, 24ull * 3600 * 1000, &ms), 0);
                assert_int_equal(ms, good[k].ms);
        }
        const char *bad[] = { "", "s", "1x", "-1s", "1 s", "1s2", ".s", "ms", "1.s5" };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++)
                assert_int_equal(parse_duration_ms(bad[k], 24ull * 3600 * 1000, &ms), -EINVAL);
        assert_int_equal(parse_duration_ms("25h", 24ull * 3600 * 1000, &ms), -ERANGE);
        assert_int_equal(parse_duration_ms("86401", 24ull * 3600 * 1000, &ms), -ERANGE);
        assert_int_equal(parse_duration_ms("99999999999999999999h", 1000, &ms), -ERANGE);
}

static void sizes_parse_as_podman_flags_take_them(void **state) {
        uint64_t n = 0;
        const struct {
                const char *text;
                uint64_t bytes;
        } good[] = { { "0", 0 }, { "1048576", 1048576 }, { "64k", 65536 }, { "512m", 512ull << 20 },
                     { "512M", 512ull << 20 }, { "2g", 2ull << 30 }, { "1t", 1ull << 40 }, { "512mb", 512ull << 20 },
                     { "100b", 100 } };
        for (size_t k = 0; k < ELEMENTSOF(good); k++) {
                assert_int_equal(parse_size(good[k].text, &n), 0);
                assert_int_equal(n, good[k].bytes);
        }
        const char *bad[] = { "", "m", "-1m", "+1m", " 1m", "1x", "1mm", "1bb", "1.5g", "1m ", "1kbx" };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++)
                if (parse_size(bad[k], &n) != -EINVAL)
                        fail_msg("'%s' parsed", bad[k]);
        assert_int_equal(parse_size("99999999999999999999", &n), -ERANGE);
        assert_int_equal(parse_size("17179869184g", &n), -ERANGE);
}

static void booleans_parse_leniently(void **state) {
        bool b;
        const char *yes[] = { "1", "true", "True", "TRUE", "yes", "on" };
        const char *no[] = { "0", "false", "False", "no", "off" };
        for (size_t k = 0; k < sizeof yes / sizeof *yes; k++) {
                b = false;
                assert_int_equal(parse_boolean(yes[k], &b), 0);
                assert_true(b);
        }
        for (size_t k = 0; k < sizeof no / sizeof *no; k++) {
                b = true;
                assert_int_equal(parse_boolean(no[k], &b), 0);
                assert_false(b);
        }
        assert_int_equal(parse_boolean("maybe", &b), -EINVAL);
        assert_int_equal(parse_boolean("", &b), -EINVAL);
        assert_int_equal(parse_boolean(NULL, &b), -EINVAL);
}

static void rfc3339_times_are_utc_with_nanoseconds(void **state) {
        char buf[40];
        /* whatever the local zone says */
        (void) setenv("TZ", "Asia/Kolkata", 1);
        assert_string_equal(format_rfc3339(1700000000123456789ull, buf), "2023-11-14T22:13:20.123456789Z");
        assert_string_equal(format_rfc3339(1000000000ull, buf), "1970-01-01T00:00:01.000000000Z");
        assert_string_equal(format_rfc3339(4102444799000000001ull, buf), "2099-12-31T23:59:59.000000001Z");
        (void) unsetenv("TZ");
        /* 0 is Podman's zero time, "never" */
        assert_string_equal(format_rfc3339(0, buf), "0001-01-01T00:00:00Z");
}

static void streams_read_whole_and_bounded(void **state) {
        char data[10000];
        memset(data, 'x', sizeof data);
        char *out = NULL;
        size_t len = 0;

        FILE *f = fmemopen(data, sizeof data, "r");
        assert_int_equal(read_full_stream(f, 1 << 20, &out, &len), 0);
        assert_int_equal(len, sizeof data);
        assert_int_equal(out[len], '\0');
        free(out);
        fclose(f);

        f = fmemopen(data, sizeof data, "r");
        assert_int_equal(read_full_stream(f, 9999, &out, &len), -EFBIG);
        fclose(f);
        f = fmemopen(data, sizeof data, "r");
        assert_int_equal(read_full_stream(f, sizeof data, &out, &len), 0);
        assert_int_equal(len, sizeof data);
        free(out);
        fclose(f);

        f = fmemopen(data, 100, "r");
        assert_int_equal(read_full_stream(f, 99, &out, NULL), -EFBIG);
        fclose(f);

        f = fmemopen(data, 1, "r");
        (void) fgetc(f);
        assert_int_equal(read_full_stream(f, 100, &out, NULL), 0);
        assert_string_equal(out, "");
        free(out);
        fclose(f);
}

static void files_read_whole_and_a_fifo_does_not_block(void **state) {
        char dir[] = "/tmp/nst-unit-XXXXXX", path[64];
        assert_non_null(mkdtemp(dir));
        char *out = NULL;
        size_t len = 0;
        (void) snprintf(path, sizeof path, "%s/file", dir);
        assert_int_equal(write_file(path, "root:x:0:0\n", 11, 0600, true, NULL), 0);
        assert_int_equal(read_file(path, 100, &out, &len, NULL), 0);
        assert_int_equal(len, 11);
        assert_string_equal(out, "root:x:0:0\n");
        free(out);
        RtError e = {};
        assert_int_equal(read_file(path, 10, &out, NULL, &e), -EFBIG);
        assert_non_null(strstr(e.msg, "larger than 10 bytes"));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(read_file(path, 100, &out, NULL, NULL), -ENOENT);
        /* nobody writes to it: nothing to read, at once */
        (void) snprintf(path, sizeof path, "%s/fifo", dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        alarm(10); /* a blocked read ends the test as a failure, not a hang */
        assert_int_equal(read_file(path, 100, &out, &len, NULL), 0);
        alarm(0);
        assert_int_equal(len, 0);
        free(out);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* ---- the state-file cache ---- */

typedef struct Word {
        char text[32];
} Word;

static int word_parses;

static int word_parse(const char *path, const char *text, size_t len, void *value, RtError *err) {
        word_parses++;
        if (len == 0 || len >= sizeof(Word) || strchr(text, '!'))
                return rt_err_setx(err, -EBADMSG, "%s: not a word", path);
        memcpy(((Word *) value)->text, text, len + 1);
        return 0;
}

static int word_copy(void *dst, const void *src) {
        memcpy(dst, src, sizeof(Word));
        return 0;
}

static const FileCacheType word_type = { .size = sizeof(Word), .copy = word_copy };

/* parses that a load of path took, and what it read */
static int load_word(FileCache *c, const char *path, char out[static 32]) {
        int before = word_parses;
        Word w = {};
        int r = file_cache_load(c, path, 100, word_parse, &w, NULL);
        if (r < 0)
                return r;
        strcpy(out, w.text);
        return word_parses - before;
}

static void cache_in(const char *base) {
        char dir[128], path[160], other[160], fifo[160], got[32];
        (void) snprintf(dir, sizeof dir, "%s/nst-unit-XXXXXX", base);
        assert_non_null(mkdtemp(dir));
        (void) snprintf(path, sizeof path, "%s/state.json", dir);
        (void) snprintf(other, sizeof other, "%s/other.json", dir);
        FileCache *c = NULL;
        assert_int_equal(file_cache_new(&word_type, 8, &c), 0);

        assert_int_equal(write_file_atomic(path, "one", 3, 0600, 0, NULL), 0);
        assert_int_equal(load_word(c, path, got), 1);
        assert_string_equal(got, "one");
        assert_int_equal(load_word(c, path, got), 0); /* the same file: kept */
        assert_string_equal(got, "one");
        /* replaced, even by the same bytes: a new version */
        assert_int_equal(write_file_atomic(path, "two", 3, 0600, 0, NULL), 0);
        assert_int_equal(load_word(c, path, got), 1);
        assert_string_equal(got, "two");
        assert_int_equal(write_file_atomic(path, "two", 3, 0600, 0, NULL), 0);
        assert_int_equal(load_word(c, path, got), 1);
        assert_int_equal(load_word(c, path, got), 0);
        /* forgotten: parsed again */
        file_cache_forget(c, path);
        assert_int_equal(load_word(c, path, got), 1);
        /* without a cache, every load parses */
        assert_int_equal(load_word(NULL, path, got), 1);
        assert_int_equal(load_word(NULL, path, got), 1);
        /* a file that does not parse is an error each time, never kept */
        assert_int_equal(write_file_atomic(other, "bad!", 4, 0600, 0, NULL), 0);
        RtError e = {};
        Word w = {};
        assert_int_equal(file_cache_load(c, other, 100, word_parse, &w, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "not a word"));
        assert_int_equal(file_cache_load(c, other, 100, word_parse, &w, NULL), -EBADMSG);
        /* a missing file and a too large one are errors */
        assert_int_equal(unlink(other), 0);
        assert_int_equal(file_cache_load(c, other, 100, word_parse, &w, NULL), -ENOENT);
        assert_int_equal(write_file_atomic(other, "toolong", 7, 0600, 0, NULL), 0);
        assert_int_equal(file_cache_load(c, other, 3, word_parse, &w, NULL), -EFBIG);
        assert_int_equal(unlink(other), 0);
        /* a FIFO has no version: read (as nothing) each time, never kept */
        (void) snprintf(fifo, sizeof fifo, "%s/fifo", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        int before = word_parses;
        assert_int_equal(file_cache_load(c, fifo, 100, word_parse, &w, NULL), -EBADMSG);
        assert_int_equal(file_cache_load(c, fifo, 100, word_parse, &w, NULL), -EBADMSG);
        assert_int_equal(word_parses - before, 2);
        assert_int_equal(unlink(fifo), 0);
        file_cache_free(c);

        /* one slot: two files take turns in it, each load a parse, each value its own */
        assert_int_equal(file_cache_new(&word_type, 1, &c), 0);
        assert_int_equal(write_file_atomic(other, "three", 5, 0600, 0, NULL), 0);
        assert_int_equal(load_word(c, path, got), 1);
        assert_string_equal(got, "two");
        assert_int_equal(load_word(c, other, got), 1);
        assert_string_equal(got, "three");
        assert_int_equal(load_word(c, path, got), 1);
        assert_string_equal(got, "two");
        file_cache_free(c);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(other), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void cache_keeps_a_file_until_it_is_replaced(void **state) {
        cache_in("/tmp");
        /* tmpfs keeps no inode generations: told apart by its never-reused numbers */
        struct stat st;
        if (stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0)
                cache_in("/dev/shm");
}

static void cache_refuses_bad_types(void **state) {
        FileCache *c = NULL;
        const FileCacheType no_copy = { .size = 4 };
        assert_int_equal(file_cache_new(&no_copy, 8, &c), -EINVAL);
        assert_int_equal(file_cache_new(&word_type, 0, &c), -EINVAL);
        file_cache_free(NULL);
        file_cache_forget(NULL, "/x");
}


typedef struct Rec {
        char name[8];
        int port;
        bool up;
        uint64_t when;
        char **tags;
        struct {
                char *label;
        } inner;
} Rec;

static const JsonField inner_fields[] = {
        { "label", json_parse_string, 0, JF_MANDATORY },
        {},
};

static int parse_inner(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        return json_dispatch(path, v, inner_fields, field, 0, err);
}

static const JsonField rec_fields[] = {
        { "name", json_parse_string_buf, offsetof(Rec, name), JF_MANDATORY, .size = 8 },
        { "port", json_parse_int, offsetof(Rec, port), 0, .min = 1, .max = 65535 },
        { "up", json_parse_bool, offsetof(Rec, up), 0 },
        { "when", json_parse_uint64, offsetof(Rec, when), JF_NULLABLE },
        { "tags", json_parse_strv, offsetof(Rec, tags), 0 },
        { "inner", parse_inner, offsetof(Rec, inner), 0 },
        {},
};

static void rec_done(Rec *r) {
        for (size_t i = 0; r->tags && r->tags[i]; i++)
                free(r->tags[i]);
        free(r->tags);
        free(r->inner.label);
        *r = (Rec) {};
}

static int dispatch(const char *text, Rec *r, JsonDispatchFlags flags, RtError *e) {
        rec_done(r);
        return json_dispatch_text("rec.json", text, strlen(text), rec_fields, r, flags, e);
}

static void json_tables_decode_and_name_the_path(void **state) {
        Rec r = {};
        RtError e = {};
        assert_int_equal(dispatch("{\"name\":\"lab\",\"port\":80,\"up\":true,\"when\":null,"
                                  "\"tags\":[\"a\",\"b\"],\"inner\":{\"label\":\"x\"}}", &r, 0, &e), 0);
        assert_string_equal(r.name, "lab");
        assert_int_equal(r.port, 80);
        assert_true(r.up);
        assert_string_equal(r.tags[1], "b");
        assert_string_equal(r.inner.label, "x");

        assert_int_equal(dispatch("{\"name\":\"lab\",\"colour\":1}", &r, 0, &e), -EBADMSG);
        assert_string_equal(e.msg, ".colour: unknown key");
        assert_int_equal(dispatch("{\"NAME\":\"lab\",\"colour\":1}", &r, JD_ALLOW_UNKNOWN | JD_CASE_INSENSITIVE, &e), 0);
        assert_string_equal(r.name, "lab");
        assert_int_equal(dispatch("{\"port\":80}", &r, 0, &e), -EBADMSG);
        assert_string_equal(e.msg, ".name: missing");
        assert_int_equal(dispatch("{\"name\":\"lab\",\"port\":65536}", &r, 0, &e), -ERANGE);
        assert_string_equal(e.msg, ".port: 65536 is outside 1-65535");
        assert_int_equal(dispatch("{\"name\":\"lab\",\"port\":\"80\"}", &r, 0, &e), -EBADMSG);
        assert_string_equal(e.msg, ".port: expected an integer, not a string");
        assert_int_equal(dispatch("{\"name\":\"far-too-long\"}", &r, 0, &e), -EBADMSG);
        assert_int_equal(dispatch("{\"name\":\"lab\",\"tags\":[\"a\",3]}", &r, 0, &e), -EBADMSG);
        assert_string_equal(e.msg, ".tags[1]: expected a string, not an integer");
        assert_int_equal(dispatch("{\"name\":\"lab\",\"inner\":{}}", &r, 0, &e), -EBADMSG);
        assert_string_equal(e.msg, ".inner.label: missing");
        assert_int_equal(dispatch("{\"name\":\"lab\",\"when\":-1}", &r, 0, &e), -ERANGE);
        assert_int_equal(dispatch("{\"name\":\"a\",\"name\":\"b\"}", &r, 0, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "rec.json:1:"));
        assert_int_equal(dispatch("[1]", &r, 0, &e), -EBADMSG);
        assert_string_equal(e.msg, ".: expected an object, not an array");
        rec_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(durations_parse_as_podman_flags_take_them),
                cmocka_unit_test(set_appends_errno_text),
                cmocka_unit_test(setx_is_exact),
                cmocka_unit_test(prefix_adds_context_in_front),
                cmocka_unit_test(prefix_on_empty_error_gets_errno_text),
                cmocka_unit_test(null_error_object_is_allowed),
                cmocka_unit_test(long_messages_are_truncated_not_overflowed),
                cmocka_unit_test(errno_names),
                cmocka_unit_test(log_levels_parse),
                cmocka_unit_test(log_errno_returns_negative),
                cmocka_unit_test(numbers_parse_strictly),
                cmocka_unit_test(booleans_parse_leniently),
                cmocka_unit_test(streams_read_whole_and_bounded),
                cmocka_unit_test(rfc3339_times_are_utc_with_nanoseconds),
                cmocka_unit_test(files_read_whole_and_a_fifo_does_not_block),
                cmocka_unit_test(cache_keeps_a_file_until_it_is_replaced),
                cmocka_unit_test(cache_refuses_bad_types),
                cmocka_unit_test(json_tables_decode_and_name_the_path),
                cmocka_unit_test(sizes_parse_as_podman_flags_take_them),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
