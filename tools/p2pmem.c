// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem: the command-line tool for the p2pmem module.  Loads and unloads
 * it through libkmod, lists and inspects p2p memory from sysfs, binds PCI
 * devices to it, says which memory a set of devices can reach, and runs an
 * end-to-end O_DIRECT self test against an NVMe namespace.  See p2pmem(1).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libkmod.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "libp2pmem.h"

#define MODNAME "p2pmem"
#define PCIDEVS "/sys/bus/pci/devices"
#define DRIVER "/sys/bus/pci/drivers/p2pmem"

static bool json;

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("p2pmem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* ---- small helpers ------------------------------------------------------ */

/*
 * The first line of @path without its newline.  Fails (and leaves @buf
 * empty) when the file cannot be read or is empty, so that no caller acts
 * on a value it did not get.
 */
static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		ret = ferror(f) ? -EIO : -ENODATA;
		buf[0] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

/* "0x" and 1 to 8 hex digits, as sysfs prints PCI IDs and class codes. */
static bool is_hex_id(const char *s)
{
	size_t n = strlen(s);

	return n > 2 && n <= 10 && s[0] == '0' && s[1] == 'x' &&
	       strspn(s + 2, "0123456789abcdefABCDEF") == n - 2;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return 0;
}

/*
 * Hold off the signals that end or stop a process from a terminal or a
 * kill, so that a step that must be undone (a pattern on a disk, a bind's
 * driver_override and bars entry) is undone before they act.  SIGKILL
 * cannot be held.
 */
static void hold_signals(sigset_t *old)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigaddset(&stop, SIGTSTP);
	sigprocmask(SIG_BLOCK, &stop, old);
}

/*
 * Length of the well-formed UTF-8 sequence at @s (1 for ASCII), or 0 when
 * @s does not start one: overlong forms, surrogates and code points past
 * U+10FFFF are not well-formed.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp;
	size_t n, i;

	if (*s < 0x80)
		return 1;
	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2, cp = *s & 0x1f;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3, cp = *s & 0x0f;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4, cp = *s & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * The one place a string becomes JSON: quotes and backslashes escaped,
 * control characters as escapes, well-formed UTF-8 kept, and every byte
 * that is not part of well-formed UTF-8 (sysfs values, device paths and
 * file names are bytes) replaced by U+FFFD.
 */
static void json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	putchar('"');
	while (*s) {
		n = utf8_len(s);
		if (n > 1) {
			fwrite(s, 1, n, stdout);
			s += n;
			continue;
		}
		if (!n)
			fputs("\\ufffd", stdout);
		else if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\r')
			fputs("\\r", stdout);
		else if (*s < 0x20 || *s == 0x7f)
			printf("\\u%04x", *s);
		else
			putchar(*s);
		s++;
	}
	putchar('"');
}

static const char *human(unsigned long long v, char *buf, size_t len)
{
	if (v >= (1ULL << 30) && !(v % (1ULL << 30)))
		snprintf(buf, len, "%llu GiB", v >> 30);
	else if (v >= (1ULL << 20) && !(v % (1ULL << 20)))
		snprintf(buf, len, "%llu MiB", v >> 20);
	else
		snprintf(buf, len, "%llu KiB", v >> 10);
	return buf;
}

static bool pci_exists(const char *bdf)
{
	char path[PATH_MAX];

	if (!*bdf || strchr(bdf, '/'))
		return false;
	snprintf(path, sizeof(path), PCIDEVS "/%s", bdf);
	return access(path, F_OK) == 0;
}

/* "vvvv:dddd" of @bdf from sysfs; a part that cannot be read is "????". */
static void pci_id(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], v[16], d[16];

	snprintf(path, sizeof(path), PCIDEVS "/%s/vendor", bdf);
	if (read_file(path, v, sizeof(v)) || !is_hex_id(v))
		strcpy(v, "0x????");
	snprintf(path, sizeof(path), PCIDEVS "/%s/device", bdf);
	if (read_file(path, d, sizeof(d)) || !is_hex_id(d))
		strcpy(d, "0x????");
	snprintf(buf, len, "%s:%s", v + 2, d + 2);
}

/* The driver bound to @bdf, or "" when none. */
static void pci_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCIDEVS "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = '\0';
	if (n > 0) {
		link[n] = '\0';
		snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	}
}

/* ---- load / unload (libkmod) -------------------------------------------- */

static struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (ctx)
		kmod_load_resources(ctx);
	return ctx;
}

/* The kernel refuses a string (charp) parameter longer than this (ENOSPC). */
#define CHARP_MAX 1024

/* The modinfo entry @key ("parm", "parmtype") for parameter @name (@n bytes). */
static const char *modinfo_param(struct kmod_list *info, const char *key,
				 const char *name, size_t n)
{
	struct kmod_list *l;

	kmod_list_foreach(l, info) {
		const char *val = kmod_module_info_get_value(l);

		if (!strcmp(kmod_module_info_get_key(l), key) && val &&
		    !strncmp(val, name, n) && val[n] == ':')
			return val + n + 1;
	}
	return NULL;
}

/* The names of the module's parameters, for a message; malloc()ed. */
static char *param_names(struct kmod_list *info)
{
	struct kmod_list *l;
	char *names = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&names, &len);
	bool first = true;

	if (!f)
		return NULL;
	kmod_list_foreach(l, info) {
		const char *val = kmod_module_info_get_value(l);

		if (strcmp(kmod_module_info_get_key(l), "parm") || !val)
			continue;
		fprintf(f, "%s%.*s", first ? "" : " ", (int)strcspn(val, ":"), val);
		first = false;
	}
	fclose(f);
	return names;
}

/*
 * Is every argument NAME=VALUE, NAME a parameter the module declares, and
 * VALUE one the kernel takes whole?  The arguments reach the kernel as one
 * space-separated string: a VALUE with a space or a quote would be split
 * or parsed into something else.
 */
static int check_params(struct kmod_module *mod, int argc, char **argv)
{
	struct kmod_list *info = NULL;
	const char *type;
	char *names;
	int i, ret = 0;

	for (i = 0; i < argc && !ret; i++) {
		size_t n = strcspn(argv[i], "=");

		if (!argv[i][n] || !n)
			ret = fail("bad parameter \"%s\": expected NAME=VALUE", argv[i]);
		else if (strpbrk(argv[i], " \t\n\""))
			ret = fail("parameter %.*s: spaces and quotes are not supported in a value",
				   (int)n, argv[i]);
	}
	if (ret)
		return ret;
	if (kmod_module_get_info(mod, &info) < 0)
		return 0;	/* cannot tell: let the kernel judge */
	for (i = 0; i < argc && !ret; i++) {
		size_t n = strcspn(argv[i], "="), len = strlen(argv[i] + n + 1);

		if (!modinfo_param(info, "parm", argv[i], n)) {
			names = param_names(info);
			ret = fail("unknown parameter \"%.*s\" (the module has: %s)",
				   (int)n, argv[i], names ? names : "?");
			free(names);
			break;
		}
		type = modinfo_param(info, "parmtype", argv[i], n);
		if (type && !strcmp(type, "charp") && len > CHARP_MAX)
			ret = fail("parameter %.*s: value too long (%zu bytes, the kernel takes at most %d)",
				   (int)n, argv[i], len, CHARP_MAX);
	}
	kmod_module_info_free_list(info);
	return ret;
}

/* "A B C" from @argv, whole; malloc()ed. */
static char *join_params(int argc, char **argv)
{
	size_t len = 1;
	char *opts;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	opts = malloc(len);
	if (!opts)
		return NULL;
	opts[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(opts, " ");
		strcat(opts, argv[i]);
	}
	return opts;
}

static int cmd_load(int argc, char **argv)
{
	struct kmod_list *list = NULL;
	struct kmod_module *mod = NULL;
	const char *ko = NULL;
	char *opts = NULL;
	struct kmod_ctx *ctx;
	struct utsname u;
	int err, ret = 1;

	if (argc > 1 && !strcmp(argv[1], "--ko")) {
		if (argc < 3)
			return fail("load: --ko needs a file");
		ko = argv[2];
		argc -= 2;
		argv += 2;
	}
	ctx = kmod_open();
	if (!ctx)
		return fail("load: cannot initialise libkmod");
	uname(&u);
	if (ko) {
		err = kmod_module_new_from_path(ctx, ko, &mod);
		if (err < 0) {
			fail("load: %s: %s", ko, strerror(-err));
			goto out;
		}
	} else {
		err = kmod_module_new_from_lookup(ctx, MODNAME, &list);
		if (err < 0 || !list) {
			fail("load: module %s not found for kernel %s (install p2pmem-dkms, or give --ko FILE)",
			     MODNAME, u.release);
			goto out;
		}
		mod = kmod_module_get_module(list);
		kmod_module_unref_list(list);
	}
	if (check_params(mod, argc - 1, argv + 1))
		goto out;
	opts = join_params(argc - 1, argv + 1);
	if (!opts) {
		fail("load: out of memory");
		goto out;
	}
	err = kmod_module_insert_module(mod, 0, opts);
	switch (err) {
	case 0:
		printf("loaded %s%s%s\n", MODNAME, *opts ? " " : "", opts);
		ret = 0;
		break;
	case -EEXIST:
		fail("load: %s is already loaded (unload it first to change parameters)", MODNAME);
		break;
	case -EPERM:
		fail("load: not permitted (run as root)");
		break;
	case -EKEYREJECTED:
	case -ENOKEY:
		fail("load: the kernel rejected the module's signature (Secure Boot: enroll the DKMS key with mokutil, see the README)");
		break;
	case -EINVAL:
		fail("load: the module refused its parameters \"%s\" (see dmesg)", opts);
		break;
	case -ENOSPC:
		fail("load: the kernel refused a parameter value as too long (see dmesg)");
		break;
	default:
		fail("load: %s: %s (see dmesg)", MODNAME, strerror(-err));
	}
out:
	free(opts);
	if (mod)
		kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

static int cmd_unload(int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int err, ret = 1;

	(void)argv;
	if (argc != 1)
		return fail("usage: p2pmem unload");
	ctx = kmod_open();
	if (!ctx)
		return fail("unload: cannot initialise libkmod");
	if (kmod_module_new_from_name(ctx, MODNAME, &mod) < 0 ||
	    kmod_module_get_initstate(mod) < 0) {
		fail("unload: %s is not loaded", MODNAME);
		goto out;
	}
	err = kmod_module_remove_module(mod, 0);
	if (!err) {
		printf("unloaded %s\n", MODNAME);
		ret = 0;
	} else if (err == -EAGAIN || err == -EWOULDBLOCK || err == -EBUSY) {
		fail("unload: %s is in use (%d users): close and unmap every /dev/p2pmem* first",
		     MODNAME, kmod_module_get_refcnt(mod));
	} else if (err == -EPERM) {
		fail("unload: not permitted (run as root)");
	} else {
		fail("unload: %s: %s", MODNAME, strerror(-err));
	}
out:
	if (mod)
		kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

/* ---- list / info -------------------------------------------------------- */

static void print_info_json(const struct p2pmem_info *d)
{
	printf("{\"name\":");
	json_str(d->name);
	printf(",\"pci\":");
	json_str(d->pci);
	printf(",\"vendor\":\"%04x\",\"device\":\"%04x\",\"provider\":",
	       d->vendor, d->device);
	json_str(d->provider);
	printf(",\"backend\":");
	json_str(d->backend);
	printf(",\"size\":%llu,\"available\":%llu,\"numa_node\":%d}",
	       d->size, d->available, d->numa_node);
}

static int list_plain(void)
{
	struct p2pmem_info *d;
	char a[32], b[32];
	int n, i;

	n = p2pmem_list(&d);
	if (n < 0)
		return fail("list: %s", strerror(-n));
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf(i ? "," : "");
			print_info_json(&d[i]);
		}
		printf("]\n");
	} else {
		if (n)
			printf("%-10s %-13s %-9s %-10s %-7s %9s %9s %s\n", "NAME", "PCI",
			       "ID", "PROVIDER", "BACKEND", "SIZE", "AVAIL", "NODE");
		for (i = 0; i < n; i++)
			printf("%-10s %-13s %04x:%04x %-10s %-7s %9s %9s %d\n",
			       d[i].name, d[i].pci, d[i].vendor, d[i].device,
			       d[i].provider, d[i].backend,
			       human(d[i].size, a, sizeof(a)),
			       human(d[i].available, b, sizeof(b)), d[i].numa_node);
	}
	free(d);
	return 0;
}

/* PCI devices by their sysfs path, so that sorting gives the tree. */
struct pci_node {
	char path[PATH_MAX];
	char bdf[32];
	int depth;
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct pci_node *)a)->path,
		      ((const struct pci_node *)b)->path);
}

static int pci_nodes(struct pci_node **out)
{
	struct pci_node *v = NULL, *grown;
	struct dirent *e;
	char path[PATH_MAX];
	const char *p;
	int n = 0;
	DIR *dir = opendir(PCIDEVS);

	*out = NULL;
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (!grown)
			break;
		v = grown;
		snprintf(path, sizeof(path), PCIDEVS "/%s", e->d_name);
		if (!realpath(path, v[n].path))
			continue;
		snprintf(v[n].bdf, sizeof(v[n].bdf), "%.31s", e->d_name);
		v[n].depth = 0;
		for (p = strstr(v[n].path, "/pci"); p && (p = strchr(p + 1, '/'));)
			v[n].depth++;
		n++;
	}
	closedir(dir);
	qsort(v, n, sizeof(*v), by_path);
	*out = v;
	return n;
}

static const char *pci_kind(const char *bdf)
{
	char path[PATH_MAX], cls[32];
	unsigned long c;

	snprintf(path, sizeof(path), PCIDEVS "/%s/class", bdf);
	if (read_file(path, cls, sizeof(cls)))
		return "?";
	c = strtoul(cls, NULL, 16);
	switch (c >> 8) {
	case 0x0600: return "host-bridge";
	case 0x0604: return "bridge";
	case 0x0108: return "nvme";
	case 0x0200: return "ethernet";
	case 0x0207: return "infiniband";
	case 0x0300: return "vga";
	case 0x0302: return "3d";
	case 0x0500: return "ram";
	case 0x0b40: return "accelerator";
	case 0x1200: return "accelerator";
	default: return "device";
	}
}

/* Can an endpoint at @bdf reach @d (other than @d's own provider)? */
static bool reaches(const struct p2pmem_info *d, const char *bdf,
		    struct p2pmem_verdict *r)
{
	return strcmp(d->pci, bdf) && !p2pmem_reach(d->name, bdf, r) &&
	       r->route != P2PMEM_UNSUPPORTED;
}

static const char *route_name(const struct p2pmem_verdict *r)
{
	return r->route == P2PMEM_DIRECT ? "direct" : "host-bridge";
}

static int list_tree(void)
{
	struct p2pmem_info *d;
	struct pci_node *v;
	struct p2pmem_verdict r;
	char drv[64], id[32], sz[32], root[64] = "";
	int n, nd, i, j, k, first = 1;

	nd = p2pmem_list(&d);
	if (nd < 0)
		return fail("list: %s", strerror(-nd));
	n = pci_nodes(&v);
	if (n < 0) {
		free(d);
		return fail("list: %s: %s", PCIDEVS, strerror(-n));
	}
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		const char *dom = strstr(v[i].path, "/pci");
		const char *kind = pci_kind(v[i].bdf);
		bool bridge = !strcmp(kind, "bridge") || !strcmp(kind, "host-bridge");

		pci_id(v[i].bdf, id, sizeof(id));
		pci_driver(v[i].bdf, drv, sizeof(drv));
		if (json) {
			printf("%s{\"pci\":", first ? "" : ",");
			first = 0;
			json_str(v[i].bdf);
			printf(",\"depth\":%d,\"id\":", v[i].depth - 1);
			json_str(id);
			printf(",\"kind\":");
			json_str(kind);
			printf(",\"driver\":");
			json_str(drv);
			printf(",\"p2pmem\":[");
			for (j = 0, k = 0; j < nd; j++)
				if (!strcmp(d[j].pci, v[i].bdf)) {
					printf("%s", k++ ? "," : "");
					json_str(d[j].name);
				}
			printf("],\"reaches\":[");
			for (j = 0, k = 0; j < nd && !bridge; j++) {
				if (!reaches(&d[j], v[i].bdf, &r))
					continue;
				printf("%s{\"p2pmem\":", k++ ? "," : "");
				json_str(d[j].name);
				printf(",\"route\":\"%s\",\"distance\":%d}",
				       route_name(&r), r.distance);
			}
			printf("]}");
			continue;
		}
		if (dom && strncmp(root, dom + 1, strcspn(dom + 1, "/"))) {
			snprintf(root, sizeof(root), "%.*s", (int)strcspn(dom + 1, "/"), dom + 1);
			printf("%s\n", root);
		}
		printf("%*s%s [%s] %s%s%s", 2 * v[i].depth - 2, "", v[i].bdf,
		       id, kind, *drv ? " " : "", drv);
		for (j = 0; j < nd; j++)
			if (!strcmp(d[j].pci, v[i].bdf))
				printf("  <%s %s %s>", d[j].name,
				       human(d[j].size, sz, sizeof(sz)), d[j].backend);
		for (j = 0; j < nd && !bridge; j++)
			if (reaches(&d[j], v[i].bdf, &r))
				printf("  -> %s %s %d", d[j].name, route_name(&r),
				       r.distance);
		putchar('\n');
	}
	if (json)
		printf("]\n");
	free(v);
	free(d);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	if (argc == 1)
		return list_plain();
	if (argc == 2 && !strcmp(argv[1], "-t"))
		return list_tree();
	return fail("usage: p2pmem list [-t]");
}

/* Every attribute, then the upstream chain, one "key: value" per line. */
static int cmd_info(int argc, char **argv)
{
	static const char *const attrs[] = {
		"size", "available", "allocated", "bar", "offset", "phys_addr",
		"bus_addr", "numa_node", "backend", "provider", "host_bridge",
		"acs_redirect",
	};
	struct p2pmem_info d;
	char path[PATH_MAX], val[256];
	size_t i;
	FILE *f;
	int ret, n = 0;

	if (argc != 2)
		return fail("usage: p2pmem info p2pmemN");
	ret = p2pmem_get_info(argv[1], &d);
	if (ret)
		return fail("info: %s: %s", argv[1],
			    ret == -ENODEV ? "no such p2pmem device" : strerror(-ret));
	if (json) {
		printf("{\"name\":");
		json_str(d.name);
		printf(",\"pci\":");
		json_str(d.pci);
		printf(",\"id\":\"%04x:%04x\"", d.vendor, d.device);
	} else {
		printf("name: %s\npci: %s\nid: %04x:%04x\n", d.name, d.pci,
		       d.vendor, d.device);
	}
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/%s", d.name, attrs[i]);
		if (read_file(path, val, sizeof(val)))
			continue;
		if (json) {
			putchar(',');
			json_str(attrs[i]);
			putchar(':');
			json_str(val);
		} else {
			printf("%s: %s\n", attrs[i], val);
		}
	}
	snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/upstream", d.name);
	f = fopen(path, "re");
	printf(json ? ",\"upstream\":[" : "");
	while (f && fgets(val, sizeof(val), f)) {
		val[strcspn(val, "\n")] = '\0';
		if (json) {
			printf("%s", n++ ? "," : "");
			json_str(val);
		} else {
			printf("upstream: %s\n", val);
		}
	}
	if (f)
		fclose(f);
	printf(json ? "]}\n" : "");
	return 0;
}

/* ---- bind / unbind ------------------------------------------------------ */

/* Where the module looks up the BAR of a match that names none. */
#define BARS "/sys/module/p2pmem/parameters/bars"

static int set_override(const char *bdf, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCIDEVS "/%s/driver_override", bdf);
	return write_file(path, *val ? val : "\n");
}

/*
 * Name @bar for @bdf in the module's bars parameter ("BDF:BAR,..."),
 * keeping every other device's entry and replacing this one's, and leave
 * the value it had in @old to be put back should the bind fail.  The
 * driver takes a driver_override bind's BAR from there, so bind never adds
 * an ID that could match (and bind) another device.  The caller holds
 * flock() on the parameter against another bind doing the same.
 */
static int bars_set(const char *bdf, int bar, char *old, size_t len)
{
	char cur[4096], new[4096], *tok, *save;
	size_t n = strlen(bdf), used = 0;
	int ret;

	ret = read_file(BARS, old, len);
	if (ret && ret != -ENODATA)
		return ret;
	if (!strcmp(old, "(null)"))	/* how an unset one reads */
		old[0] = '\0';
	snprintf(cur, sizeof(cur), "%s", old);
	for (tok = strtok_r(cur, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, bdf, n) && tok[n] == ':')
			continue;
		used += snprintf(new + used, sizeof(new) - used, "%s,", tok);
		if (used >= sizeof(new))
			return -ENOSPC;
	}
	if ((size_t)snprintf(new + used, sizeof(new) - used, "%s:%d", bdf, bar) >=
	    sizeof(new) - used)
		return -ENOSPC;
	return write_file(BARS, new);
}

/* The BAR the p2pmem device of @bdf publishes, or -1. */
static int bound_bar(const char *bdf)
{
	struct p2pmem_info *d;
	char path[PATH_MAX], val[16];
	int n, i, bar = -1;

	n = p2pmem_list(&d);
	for (i = 0; i < n && bar < 0; i++) {
		if (strcmp(d[i].pci, bdf))
			continue;
		snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/bar", d[i].name);
		if (!read_file(path, val, sizeof(val)))
			bar = atoi(val);
	}
	if (n >= 0)
		free(d);
	return bar;
}

static int cmd_bind(int argc, char **argv)
{
	char drv[64], old[4096];
	const char *bdf;
	int bar = -1, lock = -1, got, ret;
	sigset_t mask;

	if (argc == 4 && !strcmp(argv[2], "--bar"))
		bar = atoi(argv[3]);
	else if (argc != 2)
		return fail("usage: p2pmem bind BDF [--bar N]");
	bdf = argv[1];
	if (argc == 4 && (bar < 0 || bar > 5 || strspn(argv[3], "0123456789") != strlen(argv[3])))
		return fail("bind: --bar takes a BAR index, 0 to 5");
	if (!pci_exists(bdf))
		return fail("bind: no PCI device %s", bdf);
	if (access(DRIVER, F_OK))
		return fail("bind: the p2pmem module is not loaded (p2pmem load)");
	pci_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, "p2pmem"))
		return fail("bind: %s is already bound to p2pmem", bdf);
	if (*drv)
		return fail("bind: %s is bound to %s; unbind it from %s first", bdf, drv, drv);

	/*
	 * --bar goes into the module's bars parameter first; then
	 * driver_override makes the driver bind this device and no other.
	 */
	hold_signals(&mask);
	if (bar >= 0) {
		lock = open(BARS, O_RDONLY | O_CLOEXEC);
		if (lock < 0 && errno == ENOENT) {
			ret = fail("bind: the loaded p2pmem module has no bars parameter (too old for --bar)");
			goto out;
		}
		ret = lock < 0 || flock(lock, LOCK_EX) ? -errno : bars_set(bdf, bar, old, sizeof(old));
		if (ret) {
			ret = fail("bind: %s: %s", BARS, strerror(-ret));
			goto out;
		}
	}
	ret = set_override(bdf, "p2pmem");
	if (ret) {
		ret = fail("bind: %s: driver_override: %s", bdf, strerror(-ret));
		goto undo_bars;
	}
	ret = write_file(DRIVER "/bind", bdf);
	if (ret) {
		ret = fail("bind: %s: %s (see dmesg)", bdf, strerror(-ret));
		goto undo_override;
	}
	/* An ids= entry naming a BAR for these IDs is matched first. */
	got = bound_bar(bdf);
	if (bar >= 0 && got != bar) {
		write_file(DRIVER "/unbind", bdf);
		ret = fail("bind: %s got BAR %d, not %d (does the module's ids= name a BAR for its IDs?)",
			   bdf, got, bar);
		goto undo_override;
	}
	ret = 0;
	printf("bound %s to p2pmem\n", bdf);
	goto out;
undo_override:
	set_override(bdf, "");
undo_bars:
	if (bar >= 0)
		write_file(BARS, *old ? old : "\n");
out:
	if (lock >= 0)
		close(lock);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	return ret;
}

static int cmd_unbind(int argc, char **argv)
{
	char drv[64];
	int ret;

	if (argc != 2)
		return fail("usage: p2pmem unbind BDF");
	if (!pci_exists(argv[1]))
		return fail("unbind: no PCI device %s", argv[1]);
	pci_driver(argv[1], drv, sizeof(drv));
	if (strcmp(drv, "p2pmem"))
		return fail("unbind: %s is not bound to p2pmem (%s)", argv[1],
			    *drv ? drv : "no driver");
	ret = write_file(DRIVER "/unbind", argv[1]);
	if (ret)
		return fail("unbind: %s: %s", argv[1], strerror(-ret));
	set_override(argv[1], "");
	printf("unbound %s from p2pmem\n", argv[1]);
	return 0;
}

/* ---- check -------------------------------------------------------------- */

static int cmd_check(int argc, char **argv)
{
	struct p2pmem_choice *c;
	char sz[32];
	int n, i;

	if (argc < 2)
		return fail("usage: p2pmem check BDF...");
	n = p2pmem_rank((const char *const *)argv + 1, argc - 1, &c);
	if (n == -ENOENT) {
		for (i = 1; i < argc && pci_exists(argv[i]); i++)
			;
		return fail("check: no PCI device %s", argv[i]);
	}
	if (n < 0)
		return fail("check: %s", strerror(-n));
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(c[i].info.name);
			printf(",\"pci\":");
			json_str(c[i].info.pci);
			printf(",\"host_bridge_routes\":%d,\"distance\":%d,\"available\":%llu}",
			       c[i].host_bridge_routes, c[i].distance, c[i].info.available);
		}
		printf("]\n");
	} else {
		for (i = 0; i < n; i++)
			printf("%s %s %s distance=%d available=%s\n", c[i].info.name,
			       c[i].info.pci,
			       c[i].host_bridge_routes ? "host-bridge" : "direct",
			       c[i].distance, human(c[i].info.available, sz, sizeof(sz)));
	}
	free(c);
	if (!n && !json)
		fprintf(stderr, "p2pmem: check: no p2pmem device is reachable by all of them\n");
	return n ? 0 : 1;
}

/* ---- test --------------------------------------------------------------- */

static void pattern_fill(unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': return v << 10;
	case 'm': case 'M': return v << 20;
	case 'g': case 'G': return v << 30;
	default: return *end ? 0 : v;
	}
}

/* Which PCI function holds the block device open as @fd? */
static void block_pci(int fd, char *bdf, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], *p, *last = NULL;
	struct stat st;

	bdf[0] = '\0';
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		return;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(path, real))
		return;
	for (p = strtok(real, "/"); p; p = strtok(NULL, "/"))
		if (strlen(p) == 12 && p[4] == ':' && p[7] == ':' && p[10] == '.')
			last = p;
	if (last)
		snprintf(bdf, len, "%s", last);
}

/*
 * Open /dev/@name only if it is the node of p2pmem device @name: test
 * writes through whatever it maps, and /dev/sda or a file would lose data.
 */
static int open_p2pmem_node(const char *name)
{
	char path[PATH_MAX], dev[32];
	unsigned int maj, min;
	struct stat st;
	int fd;

	if (!*name || strchr(name, '/') || strlen(name) > NAME_MAX)
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/dev", name);
	if (read_file(path, dev, sizeof(dev)) || sscanf(dev, "%u:%u", &maj, &min) != 2)
		return -ENODEV;
	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(maj, min)) {
		close(fd);
		return -ENODEV;
	}
	return fd;
}

/*
 * The namespace, exclusively: O_EXCL on a block device fails with EBUSY
 * while it is mounted or held O_EXCL by anyone else, and keeps others from
 * doing so while the pattern is on it.
 */
static int open_namespace(const char *nvme, unsigned long long end)
{
	unsigned long long bytes;
	struct stat st;
	int fd;

	fd = open(nvme, O_RDWR | O_DIRECT | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		fail("test: %s: %s", nvme, errno == EBUSY ?
		     "in use (mounted or opened exclusively)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode)) {
		close(fd);
		fail("test: %s: not a block device", nvme);
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, &bytes) || end > bytes) {
		close(fd);
		fail("test: %s: --offset plus --size is past its end", nvme);
		return -1;
	}
	return fd;
}

/* pread/pwrite the whole of @len, or fail. */
static bool io_full(int fd, void *buf, size_t len, off_t off, bool wr)
{
	ssize_t n;

	while (len) {
		n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf = (char *)buf + n;
		len -= n;
		off += n;
	}
	return true;
}

static int step(bool ok, const char *what)
{
	if (!json)
		printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	return ok ? 0 : 1;
}

/*
 * The p2p memory can be revoked under the test (unbind, hot-unplug): the
 * next touch raises SIGBUS.  The pattern is then on the disk already, so
 * the handler jumps to the restore, which uses RAM buffers only.
 */
static sigjmp_buf test_lost_jmp;

static void test_lost(int sig)
{
	siglongjmp(test_lost_jmp, 1);
}

/* Pattern through the p2p memory to the disk and back; 0 if all went well. */
static int test_through(int blk, unsigned char *buf, const unsigned char *want,
			unsigned long long size, unsigned long long offset)
{
	int bad = 0;

	memcpy(buf, want, size);
	bad |= step(io_full(blk, buf, size, (off_t)offset, true),
		    "O_DIRECT write from p2p memory to the NVMe");
	memset(buf, 0, size);
	bad |= step(io_full(blk, buf, size, (off_t)offset, false),
		    "O_DIRECT read from the NVMe into p2p memory");
	bad |= step(!memcmp(buf, want, size), "the p2p memory holds the bytes written");
	return bad;
}

static int cmd_test(int argc, char **argv)
{
	unsigned long long size = 4 << 20, offset = 0;
	const char *name, *nvme = NULL;
	unsigned char *buf, *save = NULL, *want = NULL;
	struct sigaction lost = { .sa_handler = test_lost }, old_bus;
	volatile int lost_bad;
	struct p2pmem_verdict v;
	sigset_t old;
	char bdf[32] = "";
	int fd = -1, blk = -1, i, bad = 0;
	bool restored;

	if (argc < 2)
		return fail("usage: p2pmem test p2pmemN --nvme /dev/nvmeXnY [--size N] [--offset N]");
	name = argv[1];
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--nvme"))
			nvme = argv[i + 1];
		else if (!strcmp(argv[i], "--size"))
			size = parse_size(argv[i + 1]);
		else if (!strcmp(argv[i], "--offset"))
			offset = parse_size(argv[i + 1]);
		else
			break;
	}
	if (i != argc || !nvme)
		return fail("usage: p2pmem test p2pmemN --nvme /dev/nvmeXnY [--size N] [--offset N]");
	if (!size || size % 4096 || offset % 4096 || size > SIZE_MAX || offset + size < offset)
		return fail("test: --size and --offset must be multiples of 4096 (size not 0)");
	fd = open_p2pmem_node(name);
	if (fd == -ENODEV)
		return fail("test: %s: not a p2pmem device (see p2pmem list)", name);
	if (fd < 0)
		return fail("test: /dev/%s: %s", name, strerror(-fd));
	blk = open_namespace(nvme, offset + size);
	if (blk < 0) {
		close(fd);
		return 1;
	}
	block_pci(blk, bdf, sizeof(bdf));
	if (*bdf && !p2pmem_reach(name, bdf, &v) && !json)
		printf("info %s\n", v.line);
	buf = p2pmem_alloc(fd, size);
	if (!buf) {
		bad = fail("test: mapping %llu bytes of %s: %s", size, name, strerror(errno));
		goto out;
	}
	if (posix_memalign((void **)&save, 4096, size) ||
	    posix_memalign((void **)&want, 4096, size)) {
		bad = fail("test: out of memory");
		goto unmap;
	}
	/* What is on the disk goes back at the end, read and written O_DIRECT. */
	if (step(io_full(blk, save, size, (off_t)offset, false),
		 "saved the namespace's bytes at the offset to RAM")) {
		bad = 1;
		goto unmap;
	}
	hold_signals(&old);
	sigaction(SIGBUS, &lost, &old_bus);
	pattern_fill(want, size, 0x70327032);
	/* Nothing set between here and a jump is read after it but "bad". */
	if (!sigsetjmp(test_lost_jmp, 1))
		lost_bad = test_through(blk, buf, want, size, offset);
	else
		lost_bad = step(false, "the p2p memory was revoked during the test (SIGBUS)");
	sigaction(SIGBUS, &old_bus, NULL);
	bad |= lost_bad;
	restored = io_full(blk, save, size, (off_t)offset, true) &&
		   io_full(blk, want, size, (off_t)offset, false) &&
		   !memcmp(want, save, size);
	sigprocmask(SIG_SETMASK, &old, NULL);
	bad |= step(restored, "restored the namespace's original bytes and read them back");
	if (!restored)
		fail("test: %s: the %llu bytes at offset %llu could NOT be restored",
		     nvme, size, offset);
	if (json) {
		printf("{\"p2pmem\":");
		json_str(name);
		printf(",\"nvme\":");
		json_str(nvme);
		printf(",\"pci\":");
		json_str(bdf);
		printf(",\"bytes\":%llu,\"result\":\"%s\"}\n", size, bad ? "fail" : "ok");
	} else {
		printf("%s: %llu bytes through %s and %s\n", bad ? "FAILED" : "PASSED",
		       size, name, nvme);
	}
unmap:
	p2pmem_free(buf, size);
out:
	free(save);
	free(want);
	close(blk);
	close(fd);
	return bad ? 1 : 0;
}

/* ---- main --------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "load", cmd_load },
	{ "unload", cmd_unload },
	{ "list", cmd_list },
	{ "info", cmd_info },
	{ "bind", cmd_bind },
	{ "unbind", cmd_unbind },
	{ "check", cmd_check },
	{ "test", cmd_test },
};

static int usage(FILE *f)
{
	fputs("usage: p2pmem [--json] COMMAND [ARGS]\n"
	      "  load [--ko FILE] [PARAM=VALUE...]  load the module (libkmod)\n"
	      "  unload                             unload it\n"
	      "  list [-t]                          p2p memory; -t: the PCIe tree and who reaches what\n"
	      "  info p2pmemN                       everything about one device\n"
	      "  bind BDF [--bar N]                 give a PCI device's BAR to p2pmem\n"
	      "  unbind BDF                         take it back\n"
	      "  check BDF...                       p2p memory all these devices can reach, best first\n"
	      "  test p2pmemN --nvme /dev/nvmeXnY [--size N] [--offset N]\n"
	      "                                     O_DIRECT through p2p memory, verified, data restored\n"
	      "See p2pmem(1).\n", f);
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	size_t i;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--json"))
			json = true;
		else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			return usage(stdout);
		else
			return usage(stderr);
		argc--;
		argv++;
	}
	if (argc < 2)
		return usage(stderr);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fail("unknown command \"%s\"", argv[1]);
	return usage(stderr);
}
