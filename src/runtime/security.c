/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an unprivileged container may do: Podman's default capabilities, no_new_privs,
 * and a seccomp filter that refuses what Docker's and Podman's default profiles refuse.
 * A privileged container (what LNST asks for) gets none of these limits. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "runtime-internal.h"
#include "log.h"
#include "fs.h"
#include "strv.h"

/* Podman 4's default_capabilities (containers.conf). */
const char *const ctr_default_caps[] = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL",   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

/* Normalises "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" to "CAP_NET_ADMIN" and checks
 * libcap knows it. */
static int cap_normalize(const char *in, char out[static 64], cap_value_t *ret, RtError *err) {
        char up[64];
        size_t l = strlen(in);
        if (l == 0 || l >= 40)
                return rt_err_setx(err, -EINVAL, "unknown capability '%.40s'", in);
        for (size_t i = 0; i <= l; i++)
                up[i] = (char) toupper((unsigned char) in[i]);
        (void) snprintf(out, 64, "%s%s", startswith(up, "CAP_") ? "" : "CAP_", up);
        char lower[64];
        for (size_t i = 0; i <= strlen(out); i++)
                lower[i] = (char) tolower((unsigned char) out[i]);
        cap_value_t v;
        if (cap_from_name(lower, &v) < 0)
                return rt_err_setx(err, -EINVAL, "unknown capability '%s'", in);
        if (ret)
                *ret = v;
        return 0;
}

static int all_caps(char ***ret) {
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                char *name = cap_to_name(c);
                if (!name)
                        return -ENOMEM;
                char up[64];
                size_t l = strlen(name);
                for (size_t i = 0; i <= l && i < sizeof up; i++)
                        up[i] = (char) toupper((unsigned char) name[i]);
                up[sizeof up - 1] = '\0';
                cap_free(name);
                int r = strv_push(ret, up);
                if (r < 0)
                        return r;
        }
        return 0;
}

int caps_resolve(char *const *add, char *const *drop, bool privileged, char ***ret, RtError *err) {
        _cleanup_(strv_freep) char **set = NULL;
        int r;
        if (privileged || strv_contains(add, "ALL") || strv_contains(add, "all"))
                r = all_caps(&set);
        else {
                set = strv_copy((char *const *) ctr_default_caps);
                r = set ? 0 : -ENOMEM;
        }
        if (r < 0)
                return rt_err_set(err, r, "capabilities");
        char norm[64];
        for (size_t i = 0; add && add[i]; i++) {
                if (strcasecmp(add[i], "ALL") == 0)
                        continue;
                if ((r = cap_normalize(add[i], norm, NULL, err)) < 0)
                        return r;
                if (!strv_contains(set, norm) && strv_push(&set, norm) < 0)
                        return rt_err_set(err, -ENOMEM, "capabilities");
        }
        for (size_t i = 0; drop && drop[i]; i++) {
                if (strcasecmp(drop[i], "ALL") == 0) {
                        strv_free(set);
                        set = calloc(1, sizeof *set);
                        if (!set)
                                return rt_err_set(err, -ENOMEM, "capabilities");
                        continue;
                }
                if ((r = cap_normalize(drop[i], norm, NULL, err)) < 0)
                        return r;
                size_t k = 0;
                for (size_t j = 0; set[j]; j++)
                        if (!streq(set[j], norm))
                                set[k++] = set[j];
                        else
                                free(set[j]);
                set[k] = NULL;
        }
        *ret = TAKE_PTR(set);
        return 0;
}

static int caps_kept(char *const *names, bool keep[static CAP_LAST_CAP + 1], RtError *err) {
        for (size_t i = 0; names && names[i]; i++) {
                char norm[64];
                cap_value_t v;
                if (cap_normalize(names[i], norm, &v, err) < 0)
                        return -EINVAL;
                if (v <= CAP_LAST_CAP)
                        keep[v] = true;
        }
        return 0;
}

/* The bounding set caps what any later exec can gain, root's included. */
static int drop_bounding_set(const bool keep[static CAP_LAST_CAP + 1], RtError *err) {
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (!keep[c] && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return rt_err_set(err, -errno, "drop capability %d from the bounding set", c);
        return 0;
}

static int set_process_caps(const bool keep[static CAP_LAST_CAP + 1], RtError *err) {
        cap_t caps = cap_init();
        if (!caps)
                return rt_err_set(err, -ENOMEM, "capabilities");
        cap_value_t list[CAP_LAST_CAP + 1];
        int n = 0;
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (keep[c])
                        list[n++] = c;
        int r = 0;
        if (n > 0 && (cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) < 0 ||
                      cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
                      cap_set_flag(caps, CAP_INHERITABLE, n, list, CAP_SET) < 0))
                r = rt_err_set(err, -errno, "build capability set");
        if (r == 0 && cap_set_proc(caps) < 0)
                r = rt_err_set(err, -errno, "set capabilities");
        cap_free(caps);
        return r;
}

/* Docker's and Podman's default profiles refuse these to a container without the
 * matching capability; we refuse them outright, with EPERM as those profiles do. The
 * capability checks in the kernel stay as the second line. */
static const char *const denied_syscalls[] = {
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
        "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
        "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
        "perf_event_open", "personality", "pivot_root", "process_vm_readv", "process_vm_writev",
        "query_module", "quotactl", "reboot", "request_key", "set_mempolicy", "setns",
        "settimeofday", "stime", "swapoff", "swapon", "_sysctl", "sysfs", "umount", "umount2",
        "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "fsopen", "fsconfig",
        "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        NULL,
};

static int build_filter(scmp_filter_ctx *ret, RtError *err) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return rt_err_set(err, -ENOMEM, "seccomp");
        int r = 0;
        for (size_t i = 0; denied_syscalls[i] && r == 0; i++) {
                int nr = seccomp_syscall_resolve_name(denied_syscalls[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0)
                        (void) rt_err_set(err, r, "seccomp rule for %s", denied_syscalls[i]);
        }
        /* clone() with a namespace flag is unshare by another door: one rule per flag,
         * since a rule cannot say "any of these bits". clone3 hides its flags in memory
         * a filter cannot read, so it gets ENOSYS and libc falls back to clone. */
        static const unsigned long ns_flags[] = {
                CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
        };
        for (size_t i = 0; i < ELEMENTSOF(ns_flags) && r == 0; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        if (r < 0) {
                if (err && !err->msg[0])
                        (void) rt_err_set(err, r, "seccomp rule for clone");
                seccomp_release(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

/* The cache is named by what the program is made of: a change to the list, the library
 * or the architecture is a new file, never a stale filter. */
static uint64_t filter_fingerprint(void) {
        uint64_t h = 1469598103934665603ull;
        const struct scmp_version *v = seccomp_version();
        char extra[64];
        (void) snprintf(extra, sizeof extra, "%u.%u.%u/%u", v ? v->major : 0, v ? v->minor : 0,
                        v ? v->micro : 0, seccomp_arch_native());
        for (size_t i = 0; denied_syscalls[i]; i++)
                for (const char *c = denied_syscalls[i]; ; c++) {
                        h = (h ^ (uint8_t) *c) * 1099511628211ull;
                        if (!*c)
                                break;
                }
        for (const char *c = extra; *c; c++)
                h = (h ^ (uint8_t) *c) * 1099511628211ull;
        return h;
}

void seccomp_program_done(SeccompProgram *p) {
        free(p->filter);
        *p = (SeccompProgram) {};
}

int seccomp_program_load(const CtrStore *s, SeccompProgram *ret, RtError *err) {
        char path[PATH_MAX], file[64];
        (void) snprintf(file, sizeof file, "seccomp-%016llx.bpf", (unsigned long long) filter_fingerprint());
        store_path(s, STORE_RUN, file, NULL, path);
        char *buf = NULL;
        size_t len = 0;
        /* Compiling the filter costs about a third of a millisecond on every start; the
         * compiled program is kept instead. */
        if (read_file(path, 64 * 1024, &buf, &len, NULL) == 0 && len > 0 &&
            len % sizeof(struct sock_filter) == 0) {
                ret->filter = (struct sock_filter *) buf;
                ret->len = (unsigned short) (len / sizeof(struct sock_filter));
                return 0;
        }
        free(buf);

        scmp_filter_ctx ctx = NULL;
        int r = build_filter(&ctx, err);
        if (r < 0)
                return r;
        int mfd = memfd_create("nsprov-seccomp", MFD_CLOEXEC);
        if (mfd < 0) {
                seccomp_release(ctx);
                return rt_err_set(err, -errno, "memfd for the seccomp filter");
        }
        r = seccomp_export_bpf(ctx, mfd);
        seccomp_release(ctx);
        off_t size = lseek(mfd, 0, SEEK_END);
        if (r < 0 || size <= 0 || size > 64 * 1024 || size % (off_t) sizeof(struct sock_filter)) {
                close(mfd);
                return rt_err_set(err, r < 0 ? r : -EIO, "export the seccomp filter");
        }
        buf = malloc((size_t) size);
        if (!buf || pread(mfd, buf, (size_t) size, 0) != size) {
                free(buf);
                close(mfd);
                return rt_err_set(err, -EIO, "read the seccomp filter");
        }
        close(mfd);
        /* best effort: a read-only runroot just means compiling next time too */
        (void) write_file_atomic(path, buf, (size_t) size, 0600, 0, NULL);
        ret->filter = (struct sock_filter *) buf;
        ret->len = (unsigned short) ((size_t) size / sizeof(struct sock_filter));
        return 0;
}

int security_apply(const CtrConfig *c, const CtrUser *user, const SeccompProgram *prog, RtError *err) {
        bool keep[CAP_LAST_CAP + 1] = {};
        int r;
        if (!c->privileged) {
                if (!prog || !prog->filter)
                        return rt_err_setx(err, -EINVAL, "no seccomp filter for an unprivileged container");
                if ((r = caps_kept(c->caps, keep, err)) < 0 || (r = drop_bounding_set(keep, err)) < 0)
                        return r;
        }
        /* Between the two: dropping from the bounding set needs CAP_SETPCAP, which a user
         * other than root no longer has; its setuid clears the rest. */
        if (user && (r = ctr_user_apply(user, err)) < 0)
                return r;
        if (c->privileged)
                return 0;
        if ((!user || user->uid == 0) && (r = set_process_caps(keep, err)) < 0)
                return r;
        /* no_new_privs first: it is what lets an unprivileged process load a filter, and
         * it keeps setuid binaries from regaining what was dropped. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return rt_err_set(err, -errno, "set no_new_privs");
        struct sock_fprog fprog = { .len = prog->len, .filter = prog->filter };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
                return rt_err_set(err, -errno, "load the seccomp filter");
        return 0;
}
