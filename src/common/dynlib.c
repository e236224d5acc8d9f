/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>

#include "dynlib.h"

int dynlib_load(const char *soname, const DynSym *syms, size_t n, const char *needed_for, RtError *err) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return rt_err_setx(err, -EOPNOTSUPP, "%s needs the library %s: %s", needed_for, soname, dlerror());
        for (size_t i = 0; i < n; i++)
                if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
                        int r = rt_err_setx(err, -EOPNOTSUPP, "%s lacks %s", soname, syms[i].name);
                        for (size_t k = 0; k < n; k++)
                                *syms[k].slot = NULL;
                        (void) dlclose(h);
                        return r;
                }
        return 0;
}
