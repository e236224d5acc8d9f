/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netns_run_in's bracket, driven through the sys_* seams (never libc names, style R11). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "netns.h"
#include "sys.h"

int __wrap_sys_open(const char *path, int flags, mode_t mode);
int __wrap_sys_setns(int fd, int nstype);

int __wrap_sys_open(const char *path, int flags, mode_t mode) {
        check_expected_ptr(path);
        int r = mock_type(int);
        if (r < 0)
                return r;
        /* A real fd, so the code under test can close it as it would the real one. */
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int __wrap_sys_setns(int fd, int nstype) {
        check_expected(nstype);
        return mock_type(int);
}

static int calls;

static int count_call(void *userdata, RtError *err) {
        calls++;
        return *(int *) userdata;
}

static void runs_inside_and_comes_back(void **state) {
        int result = 0;
        calls = 0;
        expect_string(__wrap_sys_open, path, "/proc/thread-self/ns/net");
        will_return(__wrap_sys_open, 0);
        expect_value_count(__wrap_sys_setns, nstype, CLONE_NEWNET, 2);
        will_return(__wrap_sys_setns, 0); /* into the target */
        will_return(__wrap_sys_setns, 0); /* back home */
        assert_int_equal(netns_run_in(5, count_call, &result, NULL), 0);
        assert_int_equal(calls, 1);
}

static void failure_inside_still_comes_back(void **state) {
        int result = -EEXIST;
        calls = 0;
        expect_string(__wrap_sys_open, path, "/proc/thread-self/ns/net");
        will_return(__wrap_sys_open, 0);
        expect_value_count(__wrap_sys_setns, nstype, CLONE_NEWNET, 2);
        will_return(__wrap_sys_setns, 0);
        will_return(__wrap_sys_setns, 0);
        assert_int_equal(netns_run_in(5, count_call, &result, NULL), -EEXIST);
        assert_int_equal(calls, 1);
}

static void cannot_enter_means_fn_never_runs(void **state) {
        int result = 0;
        RtError e = {};
        calls = 0;
        expect_string(__wrap_sys_open, path, "/proc/thread-self/ns/net");
        will_return(__wrap_sys_open, 0);
        expect_value(__wrap_sys_setns, nstype, CLONE_NEWNET);
        will_return(__wrap_sys_setns, -EPERM);
        assert_int_equal(netns_run_in(5, count_call, &result, &e), -EPERM);
        assert_int_equal(calls, 0);
        assert_string_equal(e.msg, "enter network namespace: Operation not permitted");
}

static void cannot_save_current_means_no_move(void **state) {
        int result = 0;
        RtError e = {};
        calls = 0;
        expect_string(__wrap_sys_open, path, "/proc/thread-self/ns/net");
        will_return(__wrap_sys_open, -EMFILE);
        assert_int_equal(netns_run_in(5, count_call, &result, &e), -EMFILE);
        assert_int_equal(calls, 0);
        assert_non_null(strstr(e.msg, "Too many open files"));
}

static void bad_arguments_are_refused(void **state) {
        int result = 0;
        assert_int_equal(netns_run_in(-1, count_call, &result, NULL), -EINVAL);
        assert_int_equal(netns_run_in(3, NULL, &result, NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(runs_inside_and_comes_back),
                cmocka_unit_test(failure_inside_still_comes_back),
                cmocka_unit_test(cannot_enter_means_fn_never_runs),
                cmocka_unit_test(cannot_save_current_means_no_move),
                cmocka_unit_test(bad_arguments_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
