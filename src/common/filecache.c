/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "filecache.h"
#include "fs.h"
#include "hash.h"

/* A version of a file. Device and inode alone are not enough where inode numbers are
 * reused (ext4 hands a freed one to the next file made), nor are coarse timestamps: the
 * inode's generation tells a reused number apart where the filesystem keeps one; tmpfs
 * keeps none but never reuses a number. */
typedef struct FileVersion {
        struct stat st;
        unsigned generation;
} FileVersion;

typedef struct FileCacheSlot {
        char *path;         /* NULL: empty */
        FileVersion version; /* of the file value was parsed from */
        void *value;
} FileCacheSlot;

struct FileCache {
        const FileCacheType *type;
        pthread_mutex_t lock;
        size_t n_slots;
        FileCacheSlot slots[];
};

int file_cache_new(const FileCacheType *type, size_t slots, FileCache **ret) {
        if (!type || type->size == 0 || !type->copy || slots == 0)
                return -EINVAL;
        FileCache *c = calloc(1, sizeof *c + slots * sizeof c->slots[0]);
        if (!c)
                return -ENOMEM;
        c->type = type;
        c->n_slots = slots;
        int r = pthread_mutex_init(&c->lock, NULL);
        if (r != 0) {
                free(c);
                return -r;
        }
        *ret = c;
        return 0;
}

static void value_free(const FileCacheType *type, void *value) {
        if (!value)
                return;
        if (type->done)
                type->done(value);
        free(value);
}

void file_cache_free(FileCache *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_slots; i++) {
                free(c->slots[i].path);
                value_free(c->type, c->slots[i].value);
        }
        pthread_mutex_destroy(&c->lock);
        free(c);
}

static bool same_version(const FileVersion *x, const FileVersion *y) {
        const struct stat *a = &x->st, *b = &y->st;
        return x->generation == y->generation && a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
               a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
               a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
               a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static FileCacheSlot *slot_of(FileCache *c, const char *path) {
        return &c->slots[fnv1a(FNV1A_OFFSET, path, strlen(path)) % c->n_slots];
}

/* false: a file whose versions cannot be told apart, never kept */
static bool version_of(int fd, FileVersion *ret) {
        *ret = (FileVersion) {};
        if (fstat(fd, &ret->st) < 0 || !S_ISREG(ret->st.st_mode))
                return false;
        /* tmpfs first: the state files of the runroot, read by nearly every request */
        struct statfs sf;
        if (fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
                return true;
        int generation = 0;
        if (ioctl(fd, FS_IOC_GETVERSION, &generation) < 0)
                return false;
        ret->generation = (unsigned) generation;
        return true;
}

/* 1 and a copy in value on a hit, 0 on a miss, or -ENOMEM */
static int lookup(FileCache *c, const char *path, const FileVersion *v, void *value) {
        FileCacheSlot *s = slot_of(c, path);
        pthread_mutex_lock(&c->lock);
        int r = 0;
        if (s->path && strcmp(s->path, path) == 0 && same_version(&s->version, v))
                r = c->type->copy(value, s->value) < 0 ? -ENOMEM : 1;
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* Best effort: a value that cannot be copied is simply not kept. */
static void keep(FileCache *c, const char *path, const FileVersion *v, const void *value) {
        void *mine = malloc(c->type->size);
        char *p = strdup(path);
        if (!mine || !p || c->type->copy(mine, value) < 0) {
                free(mine);
                free(p);
                return;
        }
        FileCacheSlot *s = slot_of(c, path);
        pthread_mutex_lock(&c->lock);
        FileCacheSlot old = *s;
        *s = (FileCacheSlot) { .path = p, .version = *v, .value = mine };
        pthread_mutex_unlock(&c->lock);
        free(old.path);
        value_free(c->type, old.value);
}

int file_cache_load(FileCache *c, const char *path, size_t max, FileCacheParse parse, void *value,
                    RtError *err) {
        int fd = open_for_reading(path, err);
        if (fd < 0)
                return fd;
        FileVersion v;
        int r = 0;
        bool cacheable = c && version_of(fd, &v);
        if (cacheable && (r = lookup(c, path, &v, value)) != 0) {
                close(fd);
                return r < 0 ? rt_err_set(err, r, "read %s", path) : 0;
        }
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if ((r = read_file_fd(fd, path, max, &text, &len, err)) < 0 ||
            (r = parse(path, text, len, value, err)) < 0)
                return r;
        if (cacheable)
                keep(c, path, &v, value);
        return 0;
}

void file_cache_forget(FileCache *c, const char *path) {
        if (!c)
                return;
        FileCacheSlot *s = slot_of(c, path);
        pthread_mutex_lock(&c->lock);
        FileCacheSlot old = {};
        if (s->path && strcmp(s->path, path) == 0) {
                old = *s;
                *s = (FileCacheSlot) {};
        }
        pthread_mutex_unlock(&c->lock);
        free(old.path);
        value_free(c->type, old.value);
}
