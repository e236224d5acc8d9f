/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Results: shape checks per version (0.1.0 to 1.1.0) and conversion between them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "cni-internal.h"

typedef enum ResultFamily {
        RESULT_LEGACY, /* 0.1.0, 0.2.0: ip4/ip6 */
        RESULT_03,     /* 0.3.0 … 0.4.0: ips[].version */
        RESULT_10,     /* 1.0.0, 1.1.0 */
} ResultFamily;

static int family_of(const char *version, ResultFamily *ret) {
        if (!cni_version_known(version))
                return -EPROTONOSUPPORT;
        if (cni_version_cmp(version, "0.3.0") < 0)
                *ret = RESULT_LEGACY;
        else if (cni_version_cmp(version, "1.0.0") < 0)
                *ret = RESULT_03;
        else
                *ret = RESULT_10;
        return 0;
}

static bool cidr_valid(const char *s, int *ret_family) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash = strchr(s, '/');
        if (!slash || (size_t) (slash - s) >= INET6_ADDRSTRLEN)
                return false;
        memcpy(buf, s, (size_t) (slash - s));
        buf[slash - s] = 0;
        unsigned char a[16];
        int family = strchr(buf, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, buf, a) != 1)
                return false;
        char *end;
        unsigned long plen = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || plen > (family == AF_INET ? 32u : 128u))
                return false;
        if (ret_family)
                *ret_family = family;
        return true;
}

static bool ip_valid(const char *s) {
        unsigned char a[16];
        return inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, a) == 1;
}

/* A string member that must be valid when present. */
static int check_str(json_t *o, const char *key, bool required, bool (*valid)(const char *),
                     const char *path, RtError *err) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return required ? rt_err_setx(err, -EINVAL, "%s: missing '%s'", path, key) : 0;
        if (!json_is_string(v))
                return rt_err_setx(err, -EINVAL, "%s.%s: expected a string", path, key);
        if (valid && !valid(json_string_value(v)))
                return rt_err_setx(err, -EINVAL, "%s.%s: invalid value '%.64s'", path, key,
                                   json_string_value(v));
        return 0;
}

static bool cidr_ok(const char *s) {
        return cidr_valid(s, NULL);
}

static int check_routes(json_t *routes, const char *path, RtError *err) {
        if (!routes)
                return 0;
        if (!json_is_array(routes))
                return rt_err_setx(err, -EINVAL, "%s: expected an array", path);
        size_t i;
        json_t *r;
        json_array_foreach(routes, i, r) {
                char p[64];
                (void) snprintf(p, sizeof p, "%s[%zu]", path, i);
                if (!json_is_object(r))
                        return rt_err_setx(err, -EINVAL, "%s: expected an object", p);
                int k;
                if ((k = check_str(r, "dst", true, cidr_ok, p, err)) < 0 ||
                    (k = check_str(r, "gw", false, ip_valid, p, err)) < 0)
                        return k;
        }
        return 0;
}

static int check_dns(json_t *res, RtError *err) {
        json_t *dns = json_object_get(res, "dns");
        if (dns && !json_is_object(dns))
                return rt_err_setx(err, -EINVAL, ".dns: expected an object");
        return 0;
}

int cni_result_check(json_t *result, RtError *err) {
        if (!json_is_object(result))
                return rt_err_setx(err, -EINVAL, "result is not a JSON object");
        json_t *v = json_object_get(result, "cniVersion");
        const char *version = json_string_value(v);
        if (!version)
                return rt_err_setx(err, -EINVAL, ".cniVersion: expected a string");
        ResultFamily fam;
        if (family_of(version, &fam) < 0)
                return rt_err_setx(err, -EPROTONOSUPPORT, "unsupported CNI result version \"%.32s\"", version);
        int r = check_dns(result, err);
        if (r < 0)
                return r;

        if (fam == RESULT_LEGACY) {
                static const char *const blocks[] = { "ip4", "ip6" };
                for (size_t b = 0; b < ELEMENTSOF(blocks); b++) {
                        json_t *blk = json_object_get(result, blocks[b]);
                        char p[16];
                        (void) snprintf(p, sizeof p, ".%s", blocks[b]);
                        if (!blk)
                                continue;
                        if (!json_is_object(blk))
                                return rt_err_setx(err, -EINVAL, "%s: expected an object", p);
                        char rp[32];
                        (void) snprintf(rp, sizeof rp, "%s.routes", p);
                        if ((r = check_str(blk, "ip", true, cidr_ok, p, err)) < 0 ||
                            (r = check_str(blk, "gateway", false, ip_valid, p, err)) < 0 ||
                            (r = check_routes(json_object_get(blk, "routes"), rp, err)) < 0)
                                return r;
                }
                /* Debian's loopback labels a 1.0.0-shaped result 0.2.0; fall through
                 * so its ips are checked too */
        }

        json_t *ifs = json_object_get(result, "interfaces");
        size_t n_ifs = 0;
        if (ifs) {
                if (!json_is_array(ifs))
                        return rt_err_setx(err, -EINVAL, ".interfaces: expected an array");
                size_t i;
                json_t *it;
                json_array_foreach(ifs, i, it) {
                        char p[32];
                        (void) snprintf(p, sizeof p, ".interfaces[%zu]", i);
                        if (!json_is_object(it))
                                return rt_err_setx(err, -EINVAL, "%s: expected an object", p);
                        if ((r = check_str(it, "name", false, NULL, p, err)) < 0 ||
                            (r = check_str(it, "mac", false, NULL, p, err)) < 0 ||
                            (r = check_str(it, "sandbox", false, NULL, p, err)) < 0)
                                return r;
                }
                n_ifs = json_array_size(ifs);
        }
        json_t *ips = json_object_get(result, "ips");
        if (ips) {
                if (!json_is_array(ips))
                        return rt_err_setx(err, -EINVAL, ".ips: expected an array");
                size_t i;
                json_t *ip;
                json_array_foreach(ips, i, ip) {
                        char p[32];
                        (void) snprintf(p, sizeof p, ".ips[%zu]", i);
                        if (!json_is_object(ip))
                                return rt_err_setx(err, -EINVAL, "%s: expected an object", p);
                        if ((r = check_str(ip, "address", true, cidr_ok, p, err)) < 0 ||
                            (r = check_str(ip, "gateway", false, ip_valid, p, err)) < 0)
                                return r;
                        json_t *ver = json_object_get(ip, "version");
                        if (ver && !(json_is_string(ver) && (streq(json_string_value(ver), "4") ||
                                                            streq(json_string_value(ver), "6"))))
                                return rt_err_setx(err, -EINVAL, "%s.version: expected \"4\" or \"6\"", p);
                        json_t *idx = json_object_get(ip, "interface");
                        if (idx && (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
                                    (size_t) json_integer_value(idx) >= n_ifs))
                                return rt_err_setx(err, -EINVAL, "%s.interface: not an index of .interfaces", p);
                }
        }
        return check_routes(json_object_get(result, "routes"), ".routes", err);
}

static int address_family(const char *cidr) {
        return strchr(cidr, ':') ? 6 : 4;
}

/* ≥ 0.3.0 → 0.1.0/0.2.0: the first IP of each family becomes its block. */
static int to_legacy(json_t *res, const char *to, json_t **ret, RtError *err) {
        json_t *out = json_object(), *blk[2] = { NULL, NULL };
        (void) json_object_set_new(out, "cniVersion", json_string(to));
        size_t i;
        json_t *ip;
        json_array_foreach(json_object_get(res, "ips"), i, ip) {
                const char *addr = json_string_value(json_object_get(ip, "address"));
                int f = address_family(addr) == 6;
                if (blk[f])
                        continue;
                blk[f] = json_object();
                (void) json_object_set_new(blk[f], "ip", json_string(addr));
                json_t *gw = json_object_get(ip, "gateway");
                if (gw)
                        (void) json_object_set(blk[f], "gateway", gw);
        }
        if (!blk[0] && !blk[1]) {
                json_decref(out);
                return rt_err_setx(err, -EINVAL, "cannot convert: no valid IP addresses");
        }
        json_t *route;
        json_array_foreach(json_object_get(res, "routes"), i, route) {
                const char *dst = json_string_value(json_object_get(route, "dst"));
                int f = address_family(dst) == 6;
                if (!blk[f])
                        continue;
                json_t *rs = json_object_get(blk[f], "routes");
                if (!rs)
                        (void) json_object_set_new(blk[f], "routes", rs = json_array());
                json_t *r = json_object();
                (void) json_object_set_new(r, "dst", json_string(dst));
                json_t *gw = json_object_get(route, "gw");
                if (gw)
                        (void) json_object_set(r, "gw", gw);
                (void) json_array_append_new(rs, r);
        }
        if (blk[0])
                (void) json_object_set_new(out, "ip4", blk[0]);
        if (blk[1])
                (void) json_object_set_new(out, "ip6", blk[1]);
        json_t *dns = json_object_get(res, "dns");
        if (dns)
                (void) json_object_set(out, "dns", dns);
        *ret = out;
        return 0;
}

/* 0.1.0/0.2.0 → ≥ 0.3.0: each block an ips entry, its routes joined at the top level. */
static json_t *from_legacy(json_t *res, const char *to, bool with_version) {
        json_t *out = json_object(), *ips = json_array(), *routes = json_array();
        (void) json_object_set_new(out, "cniVersion", json_string(to));
        (void) json_object_set_new(out, "interfaces", json_array());
        static const char *const blocks[] = { "ip4", "ip6" };
        for (size_t b = 0; b < ELEMENTSOF(blocks); b++) {
                json_t *blk = json_object_get(res, blocks[b]);
                if (!blk)
                        continue;
                json_t *ip = json_object();
                if (with_version)
                        (void) json_object_set_new(ip, "version", json_string(b ? "6" : "4"));
                (void) json_object_set(ip, "address", json_object_get(blk, "ip"));
                json_t *gw = json_object_get(blk, "gateway");
                if (gw)
                        (void) json_object_set(ip, "gateway", gw);
                (void) json_array_append_new(ips, ip);
                size_t i;
                json_t *r;
                json_array_foreach(json_object_get(blk, "routes"), i, r)
                        (void) json_array_append(routes, r);
        }
        (void) json_object_set_new(out, "ips", ips);
        if (json_array_size(routes))
                (void) json_object_set_new(out, "routes", routes);
        else
                json_decref(routes);
        json_t *dns = json_object_get(res, "dns");
        if (dns)
                (void) json_object_set(out, "dns", dns);
        return out;
}

/* Between 0.3.x/0.4.0 and 1.x: ips[].version added or dropped; going down from 1.1.0,
 * its new interface and route fields dropped too. */
static json_t *between_modern(json_t *res, const char *to, ResultFamily to_fam) {
        json_t *out = json_deep_copy(res);
        (void) json_object_set_new(out, "cniVersion", json_string(to));
        bool drop_11 = cni_version_cmp(to, "1.1.0") < 0;
        size_t i;
        json_t *ip;
        json_array_foreach(json_object_get(out, "ips"), i, ip) {
                if (to_fam == RESULT_10)
                        (void) json_object_del(ip, "version");
                else {
                        const char *addr = json_string_value(json_object_get(ip, "address"));
                        (void) json_object_set_new(ip, "version",
                                                   json_string(address_family(addr) == 6 ? "6" : "4"));
                }
        }
        if (drop_11) {
                json_t *it;
                json_array_foreach(json_object_get(out, "interfaces"), i, it) {
                        (void) json_object_del(it, "mtu");
                        (void) json_object_del(it, "socketPath");
                        (void) json_object_del(it, "pciID");
                }
                json_array_foreach(json_object_get(out, "routes"), i, it) {
                        (void) json_object_del(it, "mtu");
                        (void) json_object_del(it, "advmss");
                        (void) json_object_del(it, "priority");
                        (void) json_object_del(it, "table");
                        (void) json_object_del(it, "scope");
                }
        }
        return out;
}

int cni_result_convert(json_t *result, const char *to, json_t **ret, RtError *err) {
        int r = cni_result_check(result, err);
        if (r < 0)
                return r;
        const char *from = json_string_value(json_object_get(result, "cniVersion"));
        ResultFamily ff, tf;
        (void) family_of(from, &ff);
        if (family_of(to, &tf) < 0)
                return rt_err_setx(err, -EPROTONOSUPPORT, "cannot convert a result to version \"%.32s\"", to);
        if (streq(from, to)) {
                *ret = json_incref(result);
                return 0;
        }
        /* a "legacy" result that is really shaped like 1.0.0 (Debian's loopback) */
        if (ff == RESULT_LEGACY && !json_object_get(result, "ip4") && !json_object_get(result, "ip6") &&
            json_object_get(result, "ips"))
                ff = RESULT_10;

        if (ff == RESULT_LEGACY && tf == RESULT_LEGACY) {
                *ret = json_deep_copy(result);
                (void) json_object_set_new(*ret, "cniVersion", json_string(to));
                return 0;
        }
        if (ff == RESULT_LEGACY) {
                *ret = from_legacy(result, to, tf == RESULT_03);
                return 0;
        }
        if (tf == RESULT_LEGACY)
                return to_legacy(result, to, ret, err);
        *ret = between_modern(result, to, tf);
        return 0;
}
