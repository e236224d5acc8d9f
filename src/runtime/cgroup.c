/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's cgroups: made by its monitor before PID 1 may exec (in the ledger first),
 * PID 1 moved in, removed when it ends. Without them a container's fork bomb reaches the
 * host, and one given CAP_MKNOD opens the host's disks.
 *
 * cgroup v2 (/sys/fs/cgroup a cgroup2 mount): /sys/fs/cgroup/nsprov/<id>, with pids.max,
 * memory.max and cpu.max, and the device rules as a BPF program attached to it. cgroup v1,
 * and the hybrid layout these hosts have (v1 controllers, a v2 tree without any):
 * <controller>/nsprov/<id> for pids and devices, and memory and cpu when limited. The
 * parent "nsprov" stays, as /run/netns does; it is nsprov's mark in every hierarchy.
 * Privileged containers (LNST's) get the pids limit alone: every device is theirs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime-internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_PARENT "nsprov"

typedef enum { CG_PIDS, CG_DEVICES, CG_MEMORY, CG_CPU, _CG_V1_MAX } CgroupV1;
static const char *const v1_names[_CG_V1_MAX] = { "pids", "devices", "memory", "cpu" };

/* Podman's (runc's) devices for an unprivileged container: any node may be made, these
 * opened: null, zero, full, random, urandom, tty, console, ptmx, the ptys, tun */
typedef struct DeviceRule {
        char type;         /* 'c', 'b' or 'a' */
        int major, minor;  /* -1: any */
        const char *access;
} DeviceRule;
static const DeviceRule device_rules[] = {
        { 'c', -1, -1, "m" },    { 'b', -1, -1, "m" },    { 'c', 1, 3, "rwm" },  { 'c', 1, 5, "rwm" },
        { 'c', 1, 7, "rwm" },    { 'c', 1, 8, "rwm" },    { 'c', 1, 9, "rwm" },  { 'c', 5, 0, "rwm" },
        { 'c', 5, 1, "rwm" },    { 'c', 5, 2, "rwm" },    { 'c', 136, -1, "rwm" }, { 'c', 10, 200, "rwm" },
};

bool ctr_cgroup_v2(void) {
        struct statfs sf;
        return statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static void v1_dir(CgroupV1 c, const char *id, char buf[static PATH_MAX]) {
        (void) snprintf(buf, PATH_MAX, CGROUP_ROOT "/%s/" CGROUP_PARENT "%s%s", v1_names[c], id ? "/" : "", id ?: "");
}

static void v2_dir(const char *id, char buf[static PATH_MAX]) {
        (void) snprintf(buf, PATH_MAX, CGROUP_ROOT "/" CGROUP_PARENT "%s%s", id ? "/" : "", id ?: "");
}

static int write_at(const char *dir, const char *file, const char *value, RtError *err) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/%s", dir, file);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, strlen(value)) < 0)
                return rt_err_set(err, -errno, "write '%s' to %s", value, p);
        return 0;
}

static bool v1_wanted(CgroupV1 c, const CtrConfig *k) {
        switch (c) {
        case CG_PIDS: return true;
        case CG_DEVICES: return !k->privileged;
        case CG_MEMORY: return k->memory_limit > 0;
        case CG_CPU: return k->cpu_quota_us > 0;
        default: return false;
        }
}

static void pids_value(const CtrConfig *k, char out[static 32]) {
        if (k->pids_limit < 0)
                (void) snprintf(out, 32, "max");
        else
                (void) snprintf(out, 32, "%lld", (long long) (k->pids_limit ?: CTR_DEFAULT_PIDS_LIMIT));
}

static void device_rule_text(const DeviceRule *d, char out[static 64]) {
        char major[16] = "*", minor[16] = "*";
        if (d->major >= 0)
                (void) snprintf(major, sizeof major, "%d", d->major);
        if (d->minor >= 0)
                (void) snprintf(minor, sizeof minor, "%d", d->minor);
        (void) snprintf(out, 64, "%c %s:%s %s", d->type, major, minor, d->access);
}

static int v1_limits(CgroupV1 c, const char *dir, const CtrConfig *k, RtError *err) {
        char v[64];
        int r = 0;
        switch (c) {
        case CG_PIDS:
                pids_value(k, v);
                return write_at(dir, "pids.max", v, err);
        case CG_DEVICES: {
                if ((r = write_at(dir, "devices.deny", "a", err)) < 0)
                        return r;
                /* one rule a write, all through one open */
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "%s/devices.allow", dir);
                _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return rt_err_set(err, -errno, "open %s", p);
                for (size_t i = 0; i < ELEMENTSOF(device_rules); i++) {
                        device_rule_text(&device_rules[i], v);
                        if (write(fd, v, strlen(v)) < 0)
                                return rt_err_set(err, -errno, "write '%s' to %s", v, p);
                }
                return 0;
        }
        case CG_MEMORY:
                (void) snprintf(v, sizeof v, "%llu", (unsigned long long) k->memory_limit);
                return write_at(dir, "memory.limit_in_bytes", v, err);
        case CG_CPU:
                (void) snprintf(v, sizeof v, "%llu", (unsigned long long) k->cpu_quota_us);
                if ((r = write_at(dir, "cpu.cfs_period_us", "100000", err)) < 0)
                        return r;
                return write_at(dir, "cpu.cfs_quota_us", v, err);
        default:
                return 0;
        }
}

/* ---- cgroup v2's device rules: a BPF_PROG_TYPE_CGROUP_DEVICE program ---- */

#define INSN(c, d, s, o, i) ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* r2 = type, r3 = access, r4 = major, r5 = minor (from the context in r1); each rule a
 * run of jumps past itself when it does not match, "return 1" when it does; then 0 */
static size_t device_program(struct bpf_insn *p, size_t max) {
        size_t n = 0;
        p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0); /* access_type */
        p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xFFFF);
        p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
        p[n++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
        p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0); /* major */
        p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0); /* minor */
        for (size_t i = 0; i < ELEMENTSOF(device_rules) && n + 8 < max; i++) {
                const DeviceRule *d = &device_rules[i];
                int access = (strchr(d->access, 'r') ? BPF_DEVCG_ACC_READ : 0) |
                             (strchr(d->access, 'w') ? BPF_DEVCG_ACC_WRITE : 0) |
                             (strchr(d->access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0);
                int type = d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
                size_t jumps[4], n_jumps = 0;
                /* the type must be the rule's */
                jumps[n_jumps++] = n;
                p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, type);
                /* the access asked for within the rule's: (access & ~allowed) == 0 */
                p[n++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_3, 0, 0);
                p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, ~access & 7);
                jumps[n_jumps++] = n;
                p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, 0);
                if (d->major >= 0) {
                        jumps[n_jumps++] = n;
                        p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, d->major);
                }
                if (d->minor >= 0) {
                        jumps[n_jumps++] = n;
                        p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, d->minor);
                }
                p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
                p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
                /* a check that fails goes on with the next rule */
                for (size_t j = 0; j < n_jumps; j++)
                        p[jumps[j]].off = (short) (n - jumps[j] - 1);
        }
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

/* The device rules attached to the cgroup dir (any v2 cgroup: the hybrid layout's
 * unified tree too, which the tests use) */
int ctr_cgroup_v2_devices(const char *dir, RtError *err) {
        struct bpf_insn prog[160];
        size_t n = device_program(prog, ELEMENTSOF(prog));
        union bpf_attr load = {};
        load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        load.insns = (uint64_t) (uintptr_t) prog;
        load.insn_cnt = (uint32_t) n;
        load.license = (uint64_t) (uintptr_t) "GPL";
        _cleanup_close_ int pfd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
        if (pfd < 0) {
                /* again with the verifier's log, for the error (with it at once, a log
                 * longer than the buffer fails the load itself) */
                int code = -errno;
                char log[4096] = "";
                load.log_buf = (uint64_t) (uintptr_t) log;
                load.log_size = sizeof log;
                load.log_level = 1;
                int again = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
                if (again >= 0)
                        close(again);
                return rt_err_set(err, code, "load the device rules (BPF)%s%.200s", log[0] ? ": " : "", log);
        }
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rt_err_set(err, -errno, "open %s", dir);
        union bpf_attr attach = {};
        attach.target_fd = (uint32_t) dfd;
        attach.attach_bpf_fd = (uint32_t) pfd;
        attach.attach_type = BPF_CGROUP_DEVICE;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0)
                return rt_err_set(err, -errno, "attach the device rules to %s", dir);
        return 0;
}

/* ---- making, entering, removing ---- */

static int make_dir(const char *p, RtError *err) {
        return mkdir(p, 0755) < 0 && errno != EEXIST ? rt_err_set(err, -errno, "create the cgroup %s", p) : 0;
}

static int v2_setup(const CtrConfig *k, pid_t pid, RtError *err) {
        char parent[PATH_MAX], dir[PATH_MAX], v[64];
        v2_dir(NULL, parent);
        v2_dir(k->id, dir);
        int r = make_dir(parent, err);
        if (r < 0)
                return r;
        /* the controllers the limits need, down to the container's dir (a missing one is
         * a limit that cannot be set: said below, where it is wanted) */
        static const char *const ctrls[] = { "+pids", "+memory", "+cpu" };
        for (size_t i = 0; i < ELEMENTSOF(ctrls); i++) {
                (void) write_at(CGROUP_ROOT, "cgroup.subtree_control", ctrls[i], NULL);
                (void) write_at(parent, "cgroup.subtree_control", ctrls[i], NULL);
        }
        if ((r = make_dir(dir, err)) < 0)
                return r;
        pids_value(k, v);
        if ((r = write_at(dir, "pids.max", v, err)) < 0)
                return r;
        if (k->memory_limit) {
                (void) snprintf(v, sizeof v, "%llu", (unsigned long long) k->memory_limit);
                if ((r = write_at(dir, "memory.max", v, err)) < 0)
                        return r;
        }
        if (k->cpu_quota_us) {
                (void) snprintf(v, sizeof v, "%llu 100000", (unsigned long long) k->cpu_quota_us);
                if ((r = write_at(dir, "cpu.max", v, err)) < 0)
                        return r;
        }
        if (!k->privileged && (r = ctr_cgroup_v2_devices(dir, err)) < 0)
                return r;
        (void) snprintf(v, sizeof v, "%d", (int) pid);
        return write_at(dir, "cgroup.procs", v, err);
}

static int v1_setup(const CtrConfig *k, pid_t pid, RtError *err) {
        char v[32];
        (void) snprintf(v, sizeof v, "%d", (int) pid);
        for (CgroupV1 c = 0; c < _CG_V1_MAX; c++) {
                if (!v1_wanted(c, k))
                        continue;
                char mount_point[PATH_MAX], parent[PATH_MAX], dir[PATH_MAX];
                (void) snprintf(mount_point, sizeof mount_point, CGROUP_ROOT "/%s", v1_names[c]);
                if (access(mount_point, F_OK) < 0) {
                        /* a controller this host has not mounted: its limit cannot be set */
                        if (c == CG_PIDS || c == CG_DEVICES)
                                continue;
                        return rt_err_setx(err, -EOPNOTSUPP, "this host has no %s cgroup controller mounted",
                                           v1_names[c]);
                }
                v1_dir(c, NULL, parent);
                v1_dir(c, k->id, dir);
                int r;
                if ((r = make_dir(parent, err)) < 0 || (r = make_dir(dir, err)) < 0 ||
                    (r = v1_limits(c, dir, k, err)) < 0 || (r = write_at(dir, "cgroup.procs", v, err)) < 0)
                        return r;
        }
        return 0;
}

int ctr_cgroup_setup(const CtrStore *s, const CtrConfig *k, pid_t pid, RtError *err) {
        /* in the ledger before it exists: a monitor killed right after leaves it to gc */
        int r = ledger_record(s, k->id, LEDGER_CGROUP, k->id, err);
        if (r < 0)
                return r;
        r = ctr_cgroup_v2() ? v2_setup(k, pid, err) : v1_setup(k, pid, err);
        if (r < 0)
                (void) rt_err_prefix(err, r, "cgroup");
        return r;
}

size_t ctr_cgroup_procs_files(const char *id, char out[][PATH_MAX], size_t max) {
        char dir[PATH_MAX];
        size_t n = 0;
        v2_dir(id, dir);
        if (access(dir, F_OK) == 0 && n < max)
                (void) snprintf(out[n++], PATH_MAX, "%s/cgroup.procs", dir);
        for (CgroupV1 c = 0; c < _CG_V1_MAX && n < max; c++) {
                v1_dir(c, id, dir);
                if (access(dir, F_OK) == 0)
                        (void) snprintf(out[n++], PATH_MAX, "%s/cgroup.procs", dir);
        }
        return n;
}

/* Every process still in dir killed (the container's, after its PID 1 ended), then the
 * dir removed, waiting for the kernel to let them go: up to 5 s, for a PID 1 still in
 * its exit (an instrumented build's leak check at exit takes a while), since what stays
 * here past an --rm container's records would be found by nobody. */
static int remove_dir(const char *dir) {
        for (int tries = 0; tries < 5000; tries++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "%s/cgroup.procs", dir);
                _cleanup_fclose_ FILE *f = fopen(p, "re");
                int pid;
                while (f && fscanf(f, "%d", &pid) == 1)
                        if (pid > 1)
                                (void) kill(pid, SIGKILL);
                struct timespec ts = { 0, 1000000 };
                (void) nanosleep(&ts, NULL);
        }
        return -EBUSY;
}

int ctr_cgroup_remove(const CtrStore *s, const char *id) {
        if (!ledger_recorded(s, id, LEDGER_CGROUP))
                return 0;
        char dir[PATH_MAX];
        int r = 0, removed = 0;
        v2_dir(id, dir);
        if (access(dir, F_OK) == 0)
                removed++, r = remove_dir(dir);
        for (CgroupV1 c = 0; c < _CG_V1_MAX; c++) {
                v1_dir(c, id, dir);
                if (access(dir, F_OK) < 0)
                        continue;
                int q = remove_dir(dir);
                removed++;
                r = r < 0 ? r : q;
        }
        /* what could not go yet stays in the ledger, for gc */
        if (r == 0)
                (void) ledger_forget(s, id, LEDGER_CGROUP);
        return r < 0 ? r : removed;
}
