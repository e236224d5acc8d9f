/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an unprivileged container may do: Podman's default capabilities, no_new_privs,
 * and a seccomp filter with the semantics of Podman's default profile.
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
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "runtime-internal.h"
#include "log.h"
#include "fs.h"
#include "strv.h"
#include "hash.h"
#include "cleanup.h"

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

/* The seccomp filter of an unprivileged container, with the semantics of Podman's default
 * profile (containers/common's seccomp.json): an allow-list, and ENOSYS for every other
 * syscall (one a later kernel adds included: libc then falls back as it would on an
 * older kernel). What the profile refuses by name gets EPERM. What it allows only with a
 * capability is allowed when the container has it, EPERM else. Stricter than it where
 * Docker's profile is: the mount family, unshare, setns, pivot_root and namespace flags
 * to clone only with CAP_SYS_ADMIN; keyctl and its kin never (the keyrings are not
 * namespaced); io_uring never (not in the list: ENOSYS); socket(AF_VSOCK) never (a way
 * out to the host the netns does not cover). */

static const char *const allowed_syscalls[] = {
        "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
        "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
        "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
        "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
        "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
        "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
        "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
        "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
        "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64",
        "futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64",
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
        "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
        "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday",
        "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_setup", "io_submit", "ioctl",
        "ioprio_get", "ioprio_set", "ipc", "kill", "lchown", "lchown32", "lgetxattr", "link", "linkat",
        "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "madvise", "memfd_create", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
        "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
        "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "open", "openat", "openat2", "pause",
        "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
        "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
        "prlimit64", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
        "readahead", "readdir", "readlink", "readlinkat", "readv", "reboot", "recv", "recvfrom",
        "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
        "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
        "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
        "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_thread_area",
        "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
        "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
        "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
        "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigreturn", "socketcall", "socketpair",
        "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
        "sync_file_range", "syncfs", "sysinfo", "syslog", "tee", "tgkill", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
        "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "wait4",
        "waitid", "waitpid", "write", "writev",
        /* the architecture's own: x86 (thread pointers, LDT), arm, s390 */
        "arch_prctl", "modify_ldt", "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
        "breakpoint", "cacheflush", "set_tls", "s390_pci_mmio_read", "s390_pci_mmio_write",
        "s390_runtime_instr",
        NULL,
};

/* refused by name with EPERM, whatever the capabilities */
static const char *const refused_syscalls[] = {
        "bdflush", "io_pgetevents", "kexec_file_load", "kexec_load", "membarrier", "migrate_pages",
        "move_pages", "nfsservctl", "nice", "oldfstat", "oldlstat", "oldolduname", "oldstat", "olduname",
        "pciconfig_iobase", "pciconfig_read", "pciconfig_write", "sgetmask", "ssetmask", "swapcontext",
        "swapoff", "swapon", "sysfs", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "vmsplice",
        "keyctl", "add_key", "request_key", "create_module", "get_kernel_syms", "_sysctl",
        NULL,
};

/* allowed with a capability, EPERM without */
static const struct {
        cap_value_t cap;
        const char *names[12];
} cap_syscalls[] = {
        { CAP_SYS_ADMIN, { "bpf", "fanotify_init", "lookup_dcookie", "perf_event_open", "quotactl",
                           "setdomainname", "sethostname", "setns", "unshare", "mount", "umount2", "umount" } },
        { CAP_SYS_ADMIN, { "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
                           "open_tree", "mount_setattr", "clone3" } },
        { CAP_SYS_CHROOT, { "chroot" } },
        { CAP_SYS_MODULE, { "delete_module", "init_module", "finit_module", "query_module" } },
        { CAP_SYS_NICE, { "get_mempolicy", "mbind", "set_mempolicy" } },
        { CAP_SYS_PACCT, { "acct" } },
        { CAP_SYS_PTRACE, { "kcmp", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace" } },
        { CAP_SYS_RAWIO, { "iopl", "ioperm" } },
        { CAP_SYS_TIME, { "settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
                          "clock_adjtime64" } },
        { CAP_SYS_TTY_CONFIG, { "vhangup" } },
        { CAP_DAC_READ_SEARCH, { "open_by_handle_at" } },
};

/* The capabilities the filter depends on, as a mask of cap_syscalls' (and audit's) */
static uint32_t filter_caps(char *const *caps) {
        uint32_t mask = 0;
        for (size_t i = 0; caps && caps[i]; i++) {
                char norm[64];
                cap_value_t v;
                if (cap_normalize(caps[i], norm, &v, NULL) < 0)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(cap_syscalls); k++)
                        if (cap_syscalls[k].cap == v)
                                mask |= 1u << k;
                if (v == CAP_AUDIT_WRITE)
                        mask |= 1u << 31;
        }
        return mask;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, RtError *err) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR || action == SCMP_ACT_ERRNO(ENOSYS))
                return 0; /* not on this architecture; or what the default does anyway */
        int r = seccomp_rule_add(ctx, action, nr, 0);
        /* a name that is another's alias here (umount on x86_64 is umount2's) */
        return r < 0 && r != -EEXIST ? rt_err_set(err, r, "seccomp rule for %s", name) : 0;
}

static int build_filter(uint32_t caps_mask, scmp_filter_ctx *ret, RtError *err) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
        if (!ctx)
                return rt_err_set(err, -ENOMEM, "seccomp");
        int r = 0;
        for (size_t i = 0; allowed_syscalls[i] && r == 0; i++)
                r = add_rule(ctx, SCMP_ACT_ALLOW, allowed_syscalls[i], err);
        for (size_t i = 0; refused_syscalls[i] && r == 0; i++)
                r = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), refused_syscalls[i], err);
        for (size_t k = 0; k < ELEMENTSOF(cap_syscalls) && r == 0; k++)
                for (size_t i = 0; i < ELEMENTSOF(cap_syscalls[k].names) && cap_syscalls[k].names[i] && r == 0; i++) {
                        bool has = caps_mask & (1u << k);
                        /* without CAP_SYS_ADMIN clone3 is ENOSYS (its flags are in memory a
                         * filter cannot read): libc falls back to clone, whose flags it can */
                        uint32_t no = streq(cap_syscalls[k].names[i], "clone3") ? SCMP_ACT_ERRNO(ENOSYS)
                                                                                 : SCMP_ACT_ERRNO(EPERM);
                        r = add_rule(ctx, has ? SCMP_ACT_ALLOW : no, cap_syscalls[k].names[i], err);
                }
        /* libseccomp lets a rule without conditions override those with them on the
         * same syscall: what has conditions gets conditional rules only */

        /* clone: a namespace flag only with CAP_SYS_ADMIN (unshare by another door): EPERM
         * per flag, since a rule cannot say "any of these bits" */
        bool admin = caps_mask & 1u; /* cap_syscalls[0] */
        static const unsigned long ns_flags[] = {
                CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
        };
        unsigned long all_ns = 0;
        for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++)
                all_ns |= ns_flags[i];
        if (r == 0)
                r = admin ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0)
                          : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, all_ns, 0));
        for (size_t i = 0; i < ELEMENTSOF(ns_flags) && r == 0 && !admin; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
        /* personality: the harmless ones (Linux, and with the address space not
         * randomized, as setarch -R asks; 32-bit Linux; the query) */
        static const unsigned long personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
        for (size_t i = 0; i < ELEMENTSOF(personas) && r == 0; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                                     SCMP_A0(SCMP_CMP_EQ, personas[i]));
        /* socket: any family but vsock (EAFNOSUPPORT); netlink's audit protocol only with
         * CAP_AUDIT_WRITE (EINVAL). A rule compares an argument once: the families around
         * the two are allowed as ranges and one by one. */
        bool audit = caps_mask & (1u << 31);
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_LT, AF_NETLINK));
        if (r == 0)
                r = audit ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK))
                          : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                                             SCMP_A2(SCMP_CMP_NE, NETLINK_AUDIT));
        for (unsigned long family = AF_NETLINK + 1; family < AF_VSOCK && r == 0; family++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, family));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_VSOCK));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));
        if (r == 0 && !audit)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                                     SCMP_A2(SCMP_CMP_EQ, NETLINK_AUDIT));
        if (r < 0) {
                if (err && !err->msg[0])
                        (void) rt_err_set(err, r, "seccomp rules");
                seccomp_release(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

/* The cache is named by what the program is made of: a change to the lists, the
 * capabilities it depends on, the library or the architecture is a new file, never a
 * stale filter. */
static uint64_t filter_fingerprint(uint32_t caps_mask) {
        uint64_t h = 1469598103934665603ull;
        const struct scmp_version *v = seccomp_version();
        char extra[96];
        (void) snprintf(extra, sizeof extra, "%u.%u.%u/%u/%08x/v4", v ? v->major : 0, v ? v->minor : 0,
                        v ? v->micro : 0, seccomp_arch_native(), caps_mask);
        const char *const *lists[] = { allowed_syscalls, refused_syscalls };
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t i = 0; lists[l][i]; i++)
                        h = fnv1a(h, lists[l][i], strlen(lists[l][i]) + 1);
        for (size_t k = 0; k < ELEMENTSOF(cap_syscalls); k++)
                for (size_t i = 0; i < ELEMENTSOF(cap_syscalls[k].names) && cap_syscalls[k].names[i]; i++)
                        h = fnv1a(h, cap_syscalls[k].names[i], strlen(cap_syscalls[k].names[i]) + 1);
        return fnv1a(h, extra, strlen(extra));
}

void seccomp_program_done(SeccompProgram *p) {
        free(p->filter);
        *p = (SeccompProgram) {};
}

int seccomp_program_load(const CtrStore *s, char *const *caps, SeccompProgram *ret, RtError *err) {
        uint32_t caps_mask = filter_caps(caps);
        char path[PATH_MAX], file[64];
        (void) snprintf(file, sizeof file, "seccomp-%016llx.bpf", (unsigned long long) filter_fingerprint(caps_mask));
        store_path(s, STORE_RUN, file, NULL, path);
        char *buf = NULL;
        size_t len = 0;
        /* Compiling the filter costs about a third of a millisecond on every start; the
         * compiled program is kept instead, and used only when nobody but root could
         * have written it (the runroot is root's) and its checksum (a trailer of 8 bytes)
         * holds: a truncated or damaged file is compiled anew */
        _cleanup_close_ int cfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        uint64_t sum;
        if (cfd >= 0 && fstat(cfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            !(st.st_mode & 022) && read_file_fd(cfd, path, 64 * 1024, &buf, &len, NULL) == 0 &&
            len > sizeof sum && (len - sizeof sum) % sizeof(struct sock_filter) == 0 &&
            (memcpy(&sum, buf + len - sizeof sum, sizeof sum), sum == fnv1a(FNV1A_OFFSET, buf, len - sizeof sum))) {
                ret->filter = (struct sock_filter *) buf;
                ret->len = (unsigned short) ((len - sizeof sum) / sizeof(struct sock_filter));
                return 0;
        }
        free(buf);

        scmp_filter_ctx ctx = NULL;
        int r = build_filter(caps_mask, &ctx, err);
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
        buf = malloc((size_t) size + sizeof(uint64_t));
        if (!buf || pread(mfd, buf, (size_t) size, 0) != size) {
                free(buf);
                close(mfd);
                return rt_err_set(err, -EIO, "read the seccomp filter");
        }
        close(mfd);
        uint64_t check = fnv1a(FNV1A_OFFSET, buf, (size_t) size);
        memcpy(buf + size, &check, sizeof check);
        /* best effort: a read-only runroot just means compiling next time too */
        (void) write_file_atomic(path, buf, (size_t) size + sizeof check, 0600, 0, NULL);
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
