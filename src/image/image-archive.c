/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image archives: what `podman save` and `docker save` write (docker-archive: manifest.json,
 * a config JSON and a tar per layer) and OCI image layouts (`podman save --format
 * oci-archive`, skopeo: oci-layout, index.json, blobs/<alg>/<hex>), as a tar, compressed
 * or not. A load unpacks one into a rootfs directory of the store, root/images/<name>.rootfs:
 * every layer applied in order, its whiteouts removing what the layers below it had. The
 * layers are applied by a child chroot'ed into that directory, so that no entry of a layer
 * (a "../", an absolute symlink and a path through it, a hard link) can reach anything
 * outside it. The record is then an image like one of `image add`, whose removal takes the
 * directory with it.
 *
 * Layers are applied onto one directory rather than kept apart and stacked as overlay
 * lower dirs: an LNST lab has an agent image or two, and one directory keeps a container's
 * start at one lower dir. */
#define _GNU_SOURCE
#include <archive.h>
#include <ctype.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/statvfs.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "forkexec.h"
#include "image.h"
#include "image-store.h"
#include "dynlib.h"
#include "fs.h"
#include "log.h"
#include "parse.h"
#include "strv.h"
#include "sys.h"

#define ARCHIVE_MAX_MEMBERS 100000
#define ARCHIVE_MAX_LAYERS 256
#define ARCHIVE_MAX_JSON (8u << 20) /* a manifest, an index, a config */

/* ---- libarchive, opened on first use (dynlib.h) ---- */

typedef struct ArchiveLib {
        typeof(&archive_read_new) read_new;
        typeof(&archive_read_support_filter_all) read_support_filter_all;
        typeof(&archive_read_support_format_tar) read_support_format_tar;
        typeof(&archive_read_open_fd) read_open_fd;
        typeof(&archive_read_open_memory) read_open_memory;
        typeof(&archive_read_next_header) read_next_header;
        typeof(&archive_read_data) read_data;
        typeof(&archive_read_data_block) read_data_block;
        typeof(&archive_read_free) read_free;
        typeof(&archive_error_string) error_string;
        typeof(&archive_entry_pathname) entry_pathname;
        typeof(&archive_entry_set_pathname) entry_set_pathname;
        typeof(&archive_entry_hardlink) entry_hardlink;
        typeof(&archive_entry_set_hardlink) entry_set_hardlink;
        typeof(&archive_entry_symlink) entry_symlink;
        typeof(&archive_entry_filetype) entry_filetype;
        typeof(&archive_write_disk_new) write_disk_new;
        typeof(&archive_write_disk_set_options) write_disk_set_options;
        typeof(&archive_write_header) write_header;
        typeof(&archive_write_data_block) write_data_block;
        typeof(&archive_write_finish_entry) write_finish_entry;
        typeof(&archive_write_free) write_free;
} ArchiveLib;

static ArchiveLib al;
static RtError al_load_error;

static void archive_lib_load(void) {
        const DynSym syms[] = {
                { "archive_read_new", (void **) &al.read_new },
                { "archive_read_support_filter_all", (void **) &al.read_support_filter_all },
                { "archive_read_support_format_tar", (void **) &al.read_support_format_tar },
                { "archive_read_open_fd", (void **) &al.read_open_fd },
                { "archive_read_open_memory", (void **) &al.read_open_memory },
                { "archive_read_next_header", (void **) &al.read_next_header },
                { "archive_read_data", (void **) &al.read_data },
                { "archive_read_data_block", (void **) &al.read_data_block },
                { "archive_read_free", (void **) &al.read_free },
                { "archive_error_string", (void **) &al.error_string },
                { "archive_entry_pathname", (void **) &al.entry_pathname },
                { "archive_entry_set_pathname", (void **) &al.entry_set_pathname },
                { "archive_entry_hardlink", (void **) &al.entry_hardlink },
                { "archive_entry_set_hardlink", (void **) &al.entry_set_hardlink },
                { "archive_entry_symlink", (void **) &al.entry_symlink },
                { "archive_entry_filetype", (void **) &al.entry_filetype },
                { "archive_write_disk_new", (void **) &al.write_disk_new },
                { "archive_write_disk_set_options", (void **) &al.write_disk_set_options },
                { "archive_write_header", (void **) &al.write_header },
                { "archive_write_data_block", (void **) &al.write_data_block },
                { "archive_write_finish_entry", (void **) &al.write_finish_entry },
                { "archive_write_free", (void **) &al.write_free },
        };
        (void) dynlib_load("libarchive.so.13", syms, ELEMENTSOF(syms), "loading an image archive", &al_load_error);
}

int image_archive_lib(RtError *err) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        (void) pthread_once(&once, archive_lib_load);
        if (!al.read_new)
                return rt_err_setx(err, al_load_error.code, "%s", al_load_error.msg);
        return 0;
}

/* A tar reader, of any compression libarchive knows (gzip, zstd, xz, bzip2). */
static struct archive *tar_reader(RtError *err) {
        struct archive *a = al.read_new();
        if (!a) {
                (void) rt_err_set(err, -ENOMEM, "archive reader");
                return NULL;
        }
        (void) al.read_support_filter_all(a);
        (void) al.read_support_format_tar(a);
        return a;
}

static void tar_reader_freep(struct archive **a) {
        if (*a)
                (void) al.read_free(*a);
}

/* ---- reading the archive ---- */

typedef struct MemberLink {
        char *path, *target; /* both clean, inside the archive */
} MemberLink;

typedef struct Staging {
        int dirfd; /* the archive's regular files, at their clean paths; -1: only checked */
        MemberLink *links;
        size_t n_links;
        char *manifest, *index; /* kept in memory when only checked */
        size_t manifest_len, index_len;
} Staging;

static void staging_done(Staging *st) {
        for (size_t i = 0; i < st->n_links; i++) {
                free(st->links[i].path);
                free(st->links[i].target);
        }
        free(st->links);
        free(st->manifest);
        free(st->index);
        if (st->dirfd >= 0)
                close(st->dirfd);
        *st = (Staging) { .dirfd = -1 };
}

/* creates the parents of clean under dirfd; every one is ours (no symlinks in there) */
static int make_parents(int dirfd, const char *clean) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s", clean);
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdirat(dirfd, p, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

static int stage_file(struct archive *a, int dirfd, const char *clean, RtError *err) {
        int r = make_parents(dirfd, clean);
        if (r < 0)
                return rt_err_set(err, r, "archive member %s", clean);
        _cleanup_close_ int fd = openat(dirfd, clean, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return rt_err_set(err, -errno, "archive member %s", clean);
        const void *buf;
        size_t size;
        la_int64_t off;
        while ((r = al.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
                if (pwrite(fd, buf, size, off) != (ssize_t) size)
                        return rt_err_set(err, -errno, "write archive member %s", clean);
        if (r != ARCHIVE_EOF)
                return rt_err_setx(err, -EBADMSG, "archive member %s: %s", clean, al.error_string(a));
        return 0;
}

static int read_member_memory(struct archive *a, const char *clean, char **ret, size_t *ret_len, RtError *err) {
        size_t cap = 0, len = 0;
        char *buf = NULL;
        for (;;) {
                if (len + 65536 > cap) {
                        if (cap >= ARCHIVE_MAX_JSON) {
                                free(buf);
                                return rt_err_setx(err, -EFBIG, "archive member %s is too large", clean);
                        }
                        cap = cap ? cap * 2 : 65536 * 2;
                        char *nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                return rt_err_set(err, -ENOMEM, "archive member %s", clean);
                        }
                        buf = nb;
                }
                la_ssize_t n = al.read_data(a, buf + len, cap - len);
                if (n < 0) {
                        free(buf);
                        return rt_err_setx(err, -EBADMSG, "archive member %s: %s", clean, al.error_string(a));
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* Reads every member of the outer archive: regular files staged under st->dirfd (or,
 * when st->dirfd < 0, the two JSON files that say what is in there kept in memory),
 * links recorded, every path checked. */
static int stage_archive(struct archive *a, Staging *st, RtError *err) {
        struct archive_entry *e;
        size_t members = 0;
        int r;
        while ((r = al.read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                const char *raw = al.entry_pathname(e);
                char clean[PATH_MAX];
                if (!raw || image_member_path(raw, clean) < 0)
                        return rt_err_setx(err, -EBADMSG, "archive member '%.200s': not a path inside the archive",
                                           raw ? raw : "");
                if (++members > ARCHIVE_MAX_MEMBERS)
                        return rt_err_setx(err, -E2BIG, "the archive has over %d members", ARCHIVE_MAX_MEMBERS);
                if (!*clean)
                        continue;
                const char *link = al.entry_hardlink(e);
                unsigned type = al.entry_filetype(e);
                if (!link && type == AE_IFLNK)
                        link = al.entry_symlink(e);
                if (link) {
                        char target[PATH_MAX];
                        if (image_member_link_target(link == al.entry_hardlink(e) ? "" : clean, link, target) < 0)
                                return rt_err_setx(err, -EBADMSG, "archive member %s links outside the archive",
                                                   clean);
                        MemberLink *nl = realloc(st->links, (st->n_links + 1) * sizeof *nl);
                        if (!nl)
                                return rt_err_set(err, -ENOMEM, "archive");
                        st->links = nl;
                        nl[st->n_links] = (MemberLink) { strdup(clean), strdup(target) };
                        if (!nl[st->n_links].path || !nl[st->n_links].target)
                                return rt_err_set(err, -ENOMEM, "archive");
                        st->n_links++;
                        continue;
                }
                if (type != AE_IFREG)
                        continue;
                int q = 0;
                if (st->dirfd >= 0)
                        q = stage_file(a, st->dirfd, clean, err);
                else if (streq(clean, "manifest.json") && !st->manifest)
                        q = read_member_memory(a, clean, &st->manifest, &st->manifest_len, err);
                else if (streq(clean, "index.json") && !st->index)
                        q = read_member_memory(a, clean, &st->index, &st->index_len, err);
                if (q < 0)
                        return q;
        }
        if (r != ARCHIVE_EOF)
                return rt_err_setx(err, -EBADMSG, "not a readable image archive: %s", al.error_string(a));
        if (members == 0)
                return rt_err_setx(err, -EBADMSG, "the archive is empty");
        return 0;
}

/* a member's staged file, through the archive's links */
static int staged_member(const Staging *st, const char *member, char out[static PATH_MAX], RtError *err) {
        (void) snprintf(out, PATH_MAX, "%s", member);
        for (int hops = 0; hops < 16; hops++) {
                size_t i;
                for (i = 0; i < st->n_links && !streq(st->links[i].path, out); i++)
                        ;
                if (i == st->n_links) {
                        struct stat sb;
                        if (fstatat(st->dirfd, out, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
                                return rt_err_setx(err, -ENOENT, "the archive has no file %s", member);
                        return 0;
                }
                (void) snprintf(out, PATH_MAX, "%s", st->links[i].target);
        }
        return rt_err_setx(err, -ELOOP, "archive member %s: too many links", member);
}

static int read_staged(const Staging *st, const char *member, char **ret, size_t *ret_len, RtError *err) {
        char p[PATH_MAX];
        int r = staged_member(st, member, p, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(st->dirfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rt_err_set(err, -errno, "archive member %s", member);
        return read_file_fd(fd, member, ARCHIVE_MAX_JSON, ret, ret_len, err);
}

/* What the archive holds: docker-archive or OCI layout, told by their top files. */
static int archive_manifest(const Staging *st, ArchiveManifest *ret, RtError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct stat sb;
        if (fstatat(st->dirfd, "manifest.json", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
                int r = read_staged(st, "manifest.json", &text, &len, err);
                return r < 0 ? r : image_docker_manifest_parse(text, len, ret, err);
        }
        if (fstatat(st->dirfd, "index.json", &sb, AT_SYMLINK_NOFOLLOW) < 0)
                return rt_err_setx(err, -EBADMSG, "neither a docker-archive (no manifest.json) "
                                   "nor an OCI image layout (no index.json)");
        int r = read_staged(st, "index.json", &text, &len, err);
        _cleanup_free_ char *manifest = NULL, *reference = NULL;
        if (r < 0 || (r = image_oci_index_parse(text, len, &manifest, &reference, err)) < 0)
                return r;
        free(text);
        text = NULL;
        if ((r = read_staged(st, manifest, &text, &len, err)) < 0 ||
            (r = image_oci_manifest_parse(text, len, ret, err)) < 0)
                return r;
        ret->reference = TAKE_PTR(reference);
        return 0;
}

int image_archive_check_memory(const void *data, size_t size, RtError *err) {
        int r = image_archive_lib(err);
        if (r < 0)
                return r;
        _cleanup_(tar_reader_freep) struct archive *a = tar_reader(err);
        if (!a)
                return -ENOMEM;
        if (al.read_open_memory(a, data, size) != ARCHIVE_OK)
                return rt_err_setx(err, -EBADMSG, "not a readable image archive: %s", al.error_string(a));
        Staging st = { .dirfd = -1 };
        r = stage_archive(a, &st, err);
        if (r == 0 && st.manifest) {
                ArchiveManifest m;
                if ((r = image_docker_manifest_parse(st.manifest, st.manifest_len, &m, err)) == 0)
                        archive_manifest_done(&m);
        } else if (r == 0 && st.index) {
                char *manifest = NULL, *reference = NULL;
                r = image_oci_index_parse(st.index, st.index_len, &manifest, &reference, err);
                free(manifest);
                free(reference);
        }
        staging_done(&st);
        return r;
}

/* ---- applying the layers, in a child chroot'ed into the new rootfs ---- */

typedef struct LayerReport {
        int code;
        unsigned devices_skipped;
        uint64_t bytes; /* of file data written, all layers */
        char msg[480];
} LayerReport;

/* What an image may unpack to (an archive of a megabyte can expand to a terabyte), and
 * what the store's disk keeps free whatever it asks: NSPROV_IMAGE_MAX_SIZE and
 * NSPROV_IMAGE_MIN_FREE (sizes: 64g, 512m) say otherwise. */
#define IMAGE_DEFAULT_MAX_SIZE (64ull << 30)
#define IMAGE_DEFAULT_MIN_FREE (1ull << 30)

typedef struct ExtractLimits {
        uint64_t max_size, min_free;
} ExtractLimits;

static int extract_limits(ExtractLimits *ret, RtError *err) {
        *ret = (ExtractLimits) { IMAGE_DEFAULT_MAX_SIZE, IMAGE_DEFAULT_MIN_FREE };
        const char *max = getenv("NSPROV_IMAGE_MAX_SIZE"), *free_ = getenv("NSPROV_IMAGE_MIN_FREE");
        if (max && *max && parse_size(max, &ret->max_size) < 0)
                return rt_err_setx(err, -EINVAL, "NSPROV_IMAGE_MAX_SIZE='%.32s' is not a size (64g, 512m)", max);
        if (free_ && *free_ && parse_size(free_, &ret->min_free) < 0)
                return rt_err_setx(err, -EINVAL, "NSPROV_IMAGE_MIN_FREE='%.32s' is not a size (1g, 512m)", free_);
        return 0;
}

/* Reads the layer in fd from its start and hands visit each entry but the top, its path
 * checked and made plain. */
static int layer_walk(int fd, int (*visit)(struct archive *a, struct archive_entry *e, const char *clean,
                                           void *userdata, RtError *err),
                      void *userdata, RtError *err) {
        if (lseek(fd, 0, SEEK_SET) < 0)
                return rt_err_set(err, -errno, "rewind the layer");
        _cleanup_(tar_reader_freep) struct archive *a = tar_reader(err);
        if (!a)
                return -ENOMEM;
        if (al.read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
                return rt_err_setx(err, -EBADMSG, "layer: %s", al.error_string(a));
        struct archive_entry *e;
        int r;
        while ((r = al.read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                const char *raw = al.entry_pathname(e) ?: "";
                char clean[PATH_MAX];
                if (image_member_path(raw, clean) < 0)
                        return rt_err_setx(err, -EBADMSG, "layer entry '%.200s': not a path inside the image", raw);
                if (*clean && (r = visit(a, e, clean, userdata, err)) < 0)
                        return r;
        }
        if (r != ARCHIVE_EOF)
                return rt_err_setx(err, -EBADMSG, "layer: %s", al.error_string(a));
        return 0;
}

/* The first pass: what this layer's whiteouts remove of the layers below. */
static int remove_whiteout(struct archive *a, struct archive_entry *e, const char *clean, void *userdata,
                           RtError *err) {
        char target[PATH_MAX + 1];
        int kind = image_whiteout(clean, target + 1), r;
        if (kind < 0)
                return rt_err_setx(err, -EBADMSG, "layer entry %s: a malformed whiteout", clean);
        target[0] = '/';
        if (kind == WHITEOUT_ENTRY && (r = rm_rf(target, err)) < 0)
                return rt_err_prefix(err, r, "whiteout %s", clean);
        if (kind != WHITEOUT_OPAQUE)
                return 0;
        /* what the layers below put in there goes; this layer's own comes after */
        _cleanup_closedir_ DIR *d = opendir(target);
        for (struct dirent *de; d && (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                char p[2 * PATH_MAX + 2];
                (void) snprintf(p, sizeof p, "%s/%s", streq(target, "/") ? "" : target, de->d_name);
                if ((r = rm_rf(p, err)) < 0)
                        return rt_err_prefix(err, r, "opaque whiteout %s", clean);
        }
        return 0;
}

typedef struct Extraction {
        struct archive *writer;
        LayerReport *report;
        const ExtractLimits *limits;
        uint64_t next_free_check; /* bytes: the disk is looked at every 64 MiB written */
} Extraction;

static int extraction_account(Extraction *x, size_t n, const char *clean, RtError *err) {
        x->report->bytes += n;
        if (x->report->bytes > x->limits->max_size)
                return rt_err_setx(err, -EFBIG, "the image unpacks to over %llu MiB (NSPROV_IMAGE_MAX_SIZE), at %s",
                                   (unsigned long long) (x->limits->max_size >> 20), clean);
        if (x->report->bytes >= x->next_free_check) {
                x->next_free_check = x->report->bytes + (64u << 20);
                struct statvfs sv;
                if (statvfs("/", &sv) == 0 && (uint64_t) sv.f_bavail * sv.f_frsize < x->limits->min_free)
                        return rt_err_setx(err, -ENOSPC, "the store's disk has under %llu MiB free "
                                           "(NSPROV_IMAGE_MIN_FREE) with the image unpacked up to %s",
                                           (unsigned long long) (x->limits->min_free >> 20), clean);
        }
        return 0;
}

/* The second pass: every entry but the whiteouts, written as the layer has it. */
static int extract_entry(struct archive *a, struct archive_entry *e, const char *clean, void *userdata,
                         RtError *err) {
        Extraction *x = userdata;
        char target[PATH_MAX];
        if (image_whiteout(clean, target) != WHITEOUT_NONE)
                return 0;
        unsigned type = al.entry_filetype(e);
        const char *hard = al.entry_hardlink(e);
        /* an image's device nodes would be raw devices to containers without privileges
         * (each has its own /dev); privileged ones have the host's /dev anyway */
        if (!hard && (type == AE_IFCHR || type == AE_IFBLK)) {
                x->report->devices_skipped++;
                return 0;
        }
        char abs[PATH_MAX + 1];
        (void) snprintf(abs, sizeof abs, "/%s", clean);
        al.entry_set_pathname(e, abs);
        if (hard) {
                char link[PATH_MAX + 1];
                if (image_member_path(hard, link + 1) < 0 || !link[1])
                        return rt_err_setx(err, -EBADMSG, "layer entry %s: a hard link outside the image", clean);
                link[0] = '/';
                al.entry_set_hardlink(e, link);
        }
        /* a layer's entry replaces what the layers below had there, whatever its kind:
         * only a directory onto a directory merges */
        struct stat sb;
        int r;
        if (lstat(abs, &sb) == 0 && (S_ISDIR(sb.st_mode) != (!hard && type == AE_IFDIR)) &&
            (r = rm_rf(abs, err)) < 0)
                return rt_err_prefix(err, r, "replace %s", clean);
        if (al.write_header(x->writer, e) < ARCHIVE_WARN)
                return rt_err_setx(err, -EIO, "layer entry %s: %s", clean, al.error_string(x->writer));
        if (!hard && type == AE_IFREG) {
                const void *buf;
                size_t size;
                la_int64_t off;
                while ((r = al.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
                        int q = extraction_account(x, size, clean, err);
                        if (q < 0)
                                return q;
                        if (al.write_data_block(x->writer, buf, size, off) < ARCHIVE_WARN)
                                return rt_err_setx(err, -EIO, "layer entry %s: %s", clean,
                                                   al.error_string(x->writer));
                }
                if (r != ARCHIVE_EOF)
                        return rt_err_setx(err, -EBADMSG, "layer entry %s: %s", clean, al.error_string(a));
        }
        /* ARCHIVE_WARN is an attribute not set: a trusted.* xattr among them, which only
         * CAP_SYS_ADMIN sets (drop_to_extraction_caps): so none of trusted.overlay.*, which
         * overlayfs would obey on its lower dir */
        if (al.write_finish_entry(x->writer) < ARCHIVE_WARN)
                return rt_err_setx(err, -EIO, "layer entry %s: %s", clean, al.error_string(x->writer));
        return 0;
}

static int apply_layer(int fd, LayerReport *rep, const ExtractLimits *limits, RtError *err) {
        int r = layer_walk(fd, remove_whiteout, NULL, err);
        if (r < 0)
                return r;
        Extraction x = { .writer = al.write_disk_new(), .report = rep, .limits = limits };
        if (!x.writer)
                return rt_err_set(err, -ENOMEM, "archive writer");
        /* numeric owners, as the layer has them (no lookup in anybody's passwd) */
        (void) al.write_disk_set_options(x.writer, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
                                                           ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                                           ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
        r = layer_walk(fd, extract_entry, &x, err);
        (void) al.write_free(x.writer);
        return r;
}

/* What extracting as the layers say needs: owners, modes (set-id bits included), times
 * and file capabilities on files that are not ours, and nothing else: without
 * CAP_SYS_CHROOT above all, so that the chroot holds even if a layer found a way to run
 * code in here, and without CAP_SYS_ADMIN, so that no trusted.* xattr is set. */
static int drop_to_extraction_caps(RtError *err) {
        /* not CAP_DAC_READ_SEARCH: CAP_DAC_OVERRIDE reads and searches what it must, and
         * that one would open any file of the host by its handle (open_by_handle_at) */
        static const cap_value_t keep[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_SETFCAP };
        cap_t caps = cap_init();
        int r = 0;
        if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) < 0 || cap_set_proc(caps) < 0 ||
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = rt_err_set(err, -errno, "drop capabilities");
        if (caps)
                cap_free(caps);
        return r;
}

/* What unpacking never does, refused in the child should a layer find a way to run code
 * there: no network, no other process, no mount or namespace, no new program, no
 * kernel interface beyond files. */
static int extraction_filter(RtError *err) {
        static const char *const refused[] = {
                "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "sendmsg",
                "ptrace", "process_vm_readv", "process_vm_writev", "kill", "tkill", "tgkill", "pidfd_open",
                "pidfd_getfd", "pidfd_send_signal", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
                "fsopen", "fsmount", "move_mount", "open_tree", "mount_setattr", "open_by_handle_at",
                "name_to_handle_at", "execve", "execveat", "fork", "vfork", "clone", "clone3", "bpf",
                "perf_event_open", "keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter",
                "io_uring_register", "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
                "finit_module", "delete_module", "reboot", "swapon", "swapoff", "ioperm", "iopl",
        };
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return rt_err_set(err, -ENOMEM, "seccomp");
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(refused) && r == 0; i++) {
                int nr = seccomp_syscall_resolve_name(refused[i]);
                if (nr != __NR_SCMP_ERROR)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        }
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r < 0 ? rt_err_set(err, r, "the unpacking's seccomp filter") : 0;
}

static _noreturn_ void layers_child(const char *rootfs, int *fds, size_t n, int report_fd) {
        LayerReport rep = {};
        RtError e = {};
        int r = 0;
        /* nothing of the caller's (a server's connections, its locks) stays open in here */
        int **keep = calloc(n + 1, sizeof *keep);
        if (!keep)
                _exit(1);
        keep[0] = &report_fd;
        for (size_t i = 0; i < n; i++)
                keep[i + 1] = &fds[i];
        fds_keep_only(keep, n + 1);
        if (chroot(rootfs) < 0 || chdir("/") < 0)
                r = rt_err_set(&e, -errno, "chroot into %s", rootfs);
        if (r == 0)
                r = drop_to_extraction_caps(&e);
        ExtractLimits limits;
        if (r == 0)
                r = extract_limits(&limits, &e);
        if (r == 0)
                r = extraction_filter(&e);
        /* the image's files as the layers have them, not as our umask would */
        (void) umask(0);
        for (size_t i = 0; r == 0 && i < n; i++)
                if ((r = apply_layer(fds[i], &rep, &limits, &e)) < 0)
                        (void) rt_err_prefix(&e, r, "layer %zu of %zu", i + 1, n);
        rep.code = r;
        (void) snprintf(rep.msg, sizeof rep.msg, "%s", e.msg);
        (void) !write(report_fd, &rep, sizeof rep);
        _exit(r < 0 ? 1 : 0);
}

typedef struct LayersChildArgs {
        const char *rootfs;
        int *fds;
        size_t n;
} LayersChildArgs;

static void layers_child_start(void *userdata, int status_fd) {
        const LayersChildArgs *x = userdata;
        layers_child(x->rootfs, x->fds, x->n, status_fd);
}

static int apply_layers(const char *rootfs, int *fds, size_t n, LayerReport *rep, RtError *err) {
        LayersChildArgs x = { .rootfs = rootfs, .fds = fds, .n = n };
        ForkStatus fs;
        int r = fork_status_start(layers_child_start, &x, /* borrow_memory= */ false, &fs);
        if (r < 0)
                return rt_err_set(err, r, "fork");
        *rep = (LayerReport) { .code = -EIO };
        /* the child reports success too: a record always comes, and it is reaped */
        ssize_t got = fork_status_wait(&fs, rep, sizeof *rep);
        if (got == 0)
                reap_childp(&fs.pid);
        if (got != (ssize_t) sizeof *rep)
                return rt_err_setx(err, -EIO, "unpacking the layers ended without a word");
        rep->msg[sizeof rep->msg - 1] = '\0';
        if (rep->code < 0)
                return rt_err_setx(err, rep->code, "%s", rep->msg);
        return 0;
}

/* ---- the load ---- */

void ctr_image_stored_rootfs(const CtrStore *s, const char *name, char buf[static PATH_MAX]) {
        store_path(s, STORE_IMAGES, name, ".rootfs", buf);
}

void load_work_done(LoadWork *w) {
        if (w->lock >= 0)
                close(w->lock);
        for (size_t i = 0; i < w->n_fds; i++)
                if (w->fds[i] >= 0)
                        close(w->fds[i]);
        free(w->fds);
        archive_manifest_done(&w->m);
        image_done(&w->img);
        if (w->staging[0])
                (void) rm_rf(w->staging, NULL);
        if (w->staging_lock >= 0)
                close(w->staging_lock);
}

int image_name_free(const CtrStore *s, const char *name, RtError *err) {
        Image existing;
        if (ctr_image_load(s, name, &existing, NULL) < 0)
                return 0;
        image_done(&existing);
        return rt_err_setx(err, -EEXIST, "image '%s' already exists (remove it, or name the new one otherwise)",
                           name);
}

/* The last steps of a load or an import, under the load lock with the name found free:
 * w->fds unpacked into a rootfs in the staging dir, moved into the store, the record
 * written (ready, when given, over the config's). */
int load_install_rootfs(const CtrStore *s, LoadWork *w, const char *name, const char *ready, bool replace,
                        ImageLoadResult *ret, RtError *err) {
        char rootfs[PATH_MAX];
        int r;
        (void) snprintf(rootfs, sizeof rootfs, "%s/rootfs", w->staging);
        if (mkdir(rootfs, 0755) < 0)
                return rt_err_set(err, -errno, "create %s", rootfs);
        LayerReport rep;
        if ((r = apply_layers(rootfs, w->fds, w->n_fds, &rep, err)) < 0)
                return r;

        char final[PATH_MAX];
        if (replace && (r = image_record_unlink(s, name, err)) < 0)
                return r;
        ctr_image_stored_rootfs(s, name, final);
        /* one a load that died on its way left behind (no record names it) */
        if ((r = rm_rf(final, err)) < 0)
                return r;
        if (rename(rootfs, final) < 0)
                return rt_err_set(err, -errno, "move the image's rootfs to %s", final);
        w->img.name = strdup(name);
        w->img.rootfs = strdup(final);
        w->img.stored = true;
        if (!w->img.name || !w->img.rootfs)
                r = rt_err_set(err, -ENOMEM, "load");
        if (r == 0 && ready && (free(w->img.config.ready), !(w->img.config.ready = strdup(ready))))
                r = rt_err_set(err, -ENOMEM, "load");
        if (r == 0)
                r = ctr_image_add(s, &w->img, err);
        if (r < 0) {
                (void) rm_rf(final, NULL);
                return r;
        }
        *ret = (ImageLoadResult) { .layers = w->n_fds, .devices_skipped = rep.devices_skipped };
        (void) snprintf(ret->name, sizeof ret->name, "%s", name);
        return 0;
}

/* A staging dir in the store, beside where the rootfs goes: the last step is a rename. */
int load_staging_make(const CtrStore *s, LoadWork *w, RtError *err) {
        char p[PATH_MAX];
        store_path(s, STORE_IMAGES, NULL, NULL, p);
        int r = mkdir_p(p, 0700, err);
        if (r < 0)
                return r;
        (void) snprintf(w->staging, sizeof w->staging, "%s/.load-XXXXXX", p);
        if (!mkdtemp(w->staging)) {
                r = rt_err_set(err, -errno, "create %s", w->staging);
                w->staging[0] = '\0';
                return r;
        }
        (void) snprintf(p, sizeof p, "%s/.lock", w->staging);
        return (w->staging_lock = lock_file(p, false, err)) < 0 ? w->staging_lock : 0;
}

/* A staging dir whose lock nobody holds is one a load that died left (a loader takes its
 * staging dir's lock before it asks for the load lock, under which this runs). */
static void sweep_stale_staging(const CtrStore *s) {
        char dir[PATH_MAX];
        store_path(s, STORE_IMAGES, NULL, NULL, dir);
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (!startswith(de->d_name, ".load-"))
                        continue;
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "%s/%s/.lock", dir, de->d_name);
                /* not created here: a dir a loader has just made gets its lock next */
                _cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                (void) snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                (void) rm_rf(p, NULL);
        }
}

int load_lock(const CtrStore *s, LoadWork *w, RtError *err) {
        char p[PATH_MAX];
        store_path(s, STORE_IMAGES, ".load.lock", NULL, p);
        if ((w->lock = lock_file(p, true, err)) < 0)
                return w->lock;
        sweep_stale_staging(s);
        return image_blobs_sweep(s, err);
}

static int load_steps(const CtrStore *s, int archive_fd, const char *want_name, const char *ready, LoadWork *w,
                      Staging *st, ImageLoadResult *ret, RtError *err) {
        /* a name asked for is checked before an archive of gigabytes is read, and again
         * under the lock below */
        int r;
        if (want_name && ((r = ctr_image_name_check(want_name, err)) < 0 || (r = image_name_free(s, want_name, err)) < 0))
                return r;
        if ((r = load_staging_make(s, w, err)) < 0)
                return r;
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/archive", w->staging);
        if (mkdir(p, 0700) < 0 || (st->dirfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return rt_err_set(err, -errno, "create %s", p);
        {
                _cleanup_(tar_reader_freep) struct archive *a = tar_reader(err);
                if (!a)
                        return -ENOMEM;
                if (al.read_open_fd(a, archive_fd, 1 << 16) != ARCHIVE_OK)
                        return rt_err_setx(err, -EBADMSG, "not a readable image archive: %s", al.error_string(a));
                if ((r = stage_archive(a, st, err)) < 0)
                        return r;
        }
        if ((r = archive_manifest(st, &w->m, err)) < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        size_t len;
        if ((r = read_staged(st, w->m.config, &text, &len, err)) < 0 ||
            (r = image_config_parse(text, len, &w->img.config, err)) < 0)
                return r;

        if ((r = load_lock(s, w, err)) < 0)
                return r;
        char name[CTR_IMAGE_NAME_MAX + 1];
        if (want_name)
                (void) snprintf(name, sizeof name, "%s", want_name);
        else if ((r = image_name_from_reference(w->m.reference, name, err)) < 0)
                return r;
        if ((r = image_name_free(s, name, err)) < 0)
                return r;

        size_t n = strv_length(w->m.layers);
        if (!(w->fds = calloc(n ? n : 1, sizeof *w->fds)))
                return rt_err_set(err, -ENOMEM, "load");
        for (; w->n_fds < n; w->n_fds++) {
                if ((r = staged_member(st, w->m.layers[w->n_fds], p, err)) < 0)
                        return r;
                if ((w->fds[w->n_fds] = openat(st->dirfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                        return rt_err_set(err, -errno, "layer %s", w->m.layers[w->n_fds]);
        }
        return load_install_rootfs(s, w, name, ready, false, ret, err);
}

int ctr_image_load_archive(const CtrStore *s, int archive_fd, const ImageLoadOptions *o, ImageLoadResult *ret,
                           RtError *err) {
        int r = image_archive_lib(err);
        if (r < 0)
                return r;
        if ((r = ctr_ready_check(o->ready, err)) < 0)
                return r;
        LoadWork w = LOAD_WORK_INIT;
        Staging st = { .dirfd = -1 };
        r = load_steps(s, archive_fd, o->name, o->ready, &w, &st, ret, err);
        staging_done(&st);
        load_work_done(&w);
        return r < 0 ? rt_err_prefix(err, r, "load image") : 0;
}

/* ---- import: a plain rootfs tarball, as `podman import` takes one ---- */

static int import_steps(const CtrStore *s, int tar_fd, const ImageImportOptions *o, LoadWork *w,
                        ImageLoadResult *ret, RtError *err) {
        char name[CTR_IMAGE_NAME_MAX + 1];
        int r;
        if (!o->name || !*o->name)
                return rt_err_setx(err, -EINVAL, "an import needs a name for its image");
        /* a name, or a reference ("localhost/lnst:latest" names "lnst") */
        if (ctr_image_name_check(o->name, NULL) == 0)
                (void) snprintf(name, sizeof name, "%s", o->name);
        else if ((r = image_name_from_reference(o->name, name, err)) < 0)
                return r;
        if ((r = image_name_free(s, name, err)) < 0)
                return r;
        for (char *const *c = o->changes; c && *c; c++)
                if ((r = image_change_apply(*c, &w->img.config, err)) < 0)
                        return r;
        if ((r = load_staging_make(s, w, err)) < 0)
                return r;
        if (!(w->fds = calloc(1, sizeof *w->fds)))
                return rt_err_set(err, -ENOMEM, "import");
        /* the tarball is read twice (whiteouts, then files): a pipe is kept first */
        struct stat st;
        if (fstat(tar_fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(tar_fd, 0, SEEK_CUR) == 0)
                w->fds[0] = fcntl(tar_fd, F_DUPFD_CLOEXEC, 3);
        else {
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "%s/rootfs.tar", w->staging);
                w->fds[0] = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (w->fds[0] >= 0 && (r = copy_fd(tar_fd, w->fds[0], err)) < 0) {
                        w->n_fds = 1;
                        return rt_err_prefix(err, r, "read the tarball");
                }
        }
        if (w->fds[0] < 0)
                return rt_err_set(err, -errno, "import");
        w->n_fds = 1;
        if (lseek(w->fds[0], 0, SEEK_SET) < 0)
                return rt_err_set(err, -errno, "import");
        if ((r = load_lock(s, w, err)) < 0 || (r = image_name_free(s, name, err)) < 0)
                return r;
        return load_install_rootfs(s, w, name, o->ready, false, ret, err);
}

int ctr_image_import(const CtrStore *s, int tar_fd, const ImageImportOptions *o, ImageLoadResult *ret,
                     RtError *err) {
        int r = image_archive_lib(err);
        if (r < 0)
                return r;
        if ((r = ctr_ready_check(o->ready, err)) < 0)
                return r;
        LoadWork w = LOAD_WORK_INIT;
        r = import_steps(s, tar_fd, o, &w, ret, err);
        load_work_done(&w);
        return r < 0 ? rt_err_prefix(err, r, "import image") : 0;
}
