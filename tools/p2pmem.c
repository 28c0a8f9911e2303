// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem: the command-line tool for the p2pmem module.  Loads and unloads
 * it through libkmod, lists and inspects p2p memory from sysfs, binds PCI
 * devices to it, says which memory a set of devices can reach, and runs an
 * end-to-end O_DIRECT self test against an NVMe namespace.  See p2pmem(1).
 *
 * Each command that reports first collects its records into structs, then
 * hands them to one printer for text and one for JSON (json-c): what is
 * found and how it is shown stay apart.
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
#include "json.h"
#include "sysfs.h"

#define MODNAME "p2pmem"
#define PCIDEVS SYSFS_PCI_DEVICES
#define DRIVER "/sys/bus/pci/drivers/p2pmem"

/* The options, wherever they stand on the command line. */
struct opts {
	bool json, tree;
	const char *ko, *bar, *nvme, *size, *offset;
	unsigned int given;	/* OPT_* given: the command-specific ones, checked per command */
};

enum {
	OPT_TREE = 1 << 0,
	OPT_KO = 1 << 1,
	OPT_BAR = 1 << 2,
	OPT_NVME = 1 << 3,
	OPT_SIZE = 1 << 4,
	OPT_OFFSET = 1 << 5,
};

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

/* "0x" and 1 to 8 hex digits, as sysfs prints PCI IDs and class codes. */
static bool is_hex_id(const char *s)
{
	size_t n = strlen(s);

	return n > 2 && n <= 10 && s[0] == '0' && s[1] == 'x' &&
	       strspn(s + 2, "0123456789abcdefABCDEF") == n - 2;
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

/* "vvvv:dddd" of @bdf from sysfs; a part that cannot be read is "????". */
static void pci_id(const char *bdf, char *buf, size_t len)
{
	char v[16], d[16];

	if (sysfs_read(v, sizeof(v), PCIDEVS "/%s/vendor", bdf) || !is_hex_id(v))
		strcpy(v, "0x????");
	if (sysfs_read(d, sizeof(d), PCIDEVS "/%s/device", bdf) || !is_hex_id(d))
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

static int cmd_load(const struct opts *o, int argc, char **argv)
{
	struct kmod_list *list = NULL;
	struct kmod_module *mod = NULL;
	const char *ko = o->ko;
	char *opts = NULL;
	struct kmod_ctx *ctx;
	struct utsname u;
	int err, ret = 1;

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
	if (check_params(mod, argc, argv))
		goto out;
	opts = join_params(argc, argv);
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

static int cmd_unload(const struct opts *o, int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int err, ret = 1;

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

/* ---- list --------------------------------------------------------------- */

/* Nothing to list: say why, and how to get some (stderr: stdout stays empty). */
static void list_none_hint(void)
{
	if (access("/sys/module/" MODNAME, F_OK)) {
		fail("no p2p memory: the p2pmem module is not loaded");
		fail("load it with: p2pmem load (an NVMe controller with a CMB then gets a p2pmemN)");
		return;
	}
	fail("no p2p memory: no device is bound to p2pmem");
	fail("give it a PCI device's BAR: p2pmem bind BDF --bar N, or load the module with ids=VVVV:DDDD[:BAR] or bars=BDF:BAR");
	fail("an NVMe controller with a CMB gets one when the module loads (nvme_cmb=1, adopt=1); see p2pmem(1)");
}

static void list_print_text(const struct p2pmem_info *d, int n)
{
	char a[32], b[32];
	int i;

	if (!n) {
		list_none_hint();
		return;
	}
	printf("%-10s %-13s %-9s %-10s %-7s %9s %9s %s\n", "NAME", "PCI", "ID",
	       "PROVIDER", "BACKEND", "SIZE", "AVAIL", "NODE");
	for (i = 0; i < n; i++)
		printf("%-10s %-13s %04x:%04x %-10s %-7s %9s %9s %d\n",
		       d[i].name, d[i].pci, d[i].vendor, d[i].device,
		       d[i].provider, d[i].backend, human(d[i].size, a, sizeof(a)),
		       human(d[i].available, b, sizeof(b)), d[i].numa_node);
}

static json_object *info_json(const struct p2pmem_info *d)
{
	json_object *o = json_object_new_object();
	char id[8];

	json_object_object_add(o, "name", json_str(d->name));
	json_object_object_add(o, "pci", json_str(d->pci));
	snprintf(id, sizeof(id), "%04x", d->vendor & 0xffff);
	json_object_object_add(o, "vendor", json_str(id));
	snprintf(id, sizeof(id), "%04x", d->device & 0xffff);
	json_object_object_add(o, "device", json_str(id));
	json_object_object_add(o, "provider", json_str(d->provider));
	json_object_object_add(o, "backend", json_str(d->backend));
	json_object_object_add(o, "size", json_object_new_uint64(d->size));
	json_object_object_add(o, "available", json_object_new_uint64(d->available));
	json_object_object_add(o, "numa_node", json_object_new_int(d->numa_node));
	return o;
}

static int list_print_json(const struct p2pmem_info *d, int n)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, info_json(&d[i]));
	return json_print(stdout, a);
}

static int list_plain(const struct opts *o)
{
	struct p2pmem_info *d;
	int n, ret;

	n = p2pmem_list(&d);
	if (n < 0)
		return fail("list: %s", strerror(-n));
	if (o->json)
		ret = list_print_json(d, n) ? fail("list: out of memory") : 0;
	else
		ret = (list_print_text(d, n), 0);
	free(d);
	return ret;
}

/* ---- list -t: the PCIe tree --------------------------------------------- */

/* An endpoint's way to one p2pmem device. */
struct tree_reach {
	const struct p2pmem_info *mem;
	enum p2pmem_reach_route route;
	int distance;
};

/* One PCI function; the rows sorted by sysfs path give the tree. */
struct tree_row {
	char path[PATH_MAX];
	char bdf[32];
	char domain[64];	/* "pci0000:00" */
	int depth;		/* 0 under the domain */
	char id[32];
	const char *kind;
	char driver[64];
	const struct p2pmem_info **mem;	/* the p2pmem devices it provides */
	int nmem;
	struct tree_reach *reach;	/* those it reaches (endpoints only) */
	int nreach;
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tree_row *)a)->path,
		      ((const struct tree_row *)b)->path);
}

static const char *pci_kind(const char *bdf)
{
	char cls[32];
	unsigned long c;

	if (sysfs_read(cls, sizeof(cls), PCIDEVS "/%s/class", bdf))
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

/* Fill @r for the PCI function @name: what it is and what it reaches. */
static int tree_row_collect(struct tree_row *r, const char *name,
			    const struct p2pmem_info *d, int nd)
{
	char path[PATH_MAX];
	struct p2pmem_verdict v;
	const char *p;
	bool bridge;
	int j;

	snprintf(path, sizeof(path), PCIDEVS "/%s", name);
	if (!realpath(path, r->path))
		return -errno;
	snprintf(r->bdf, sizeof(r->bdf), "%.31s", name);
	p = strstr(r->path, "/pci");
	if (p)
		snprintf(r->domain, sizeof(r->domain), "%.*s",
			 (int)strcspn(p + 1, "/"), p + 1);
	for (r->depth = -1; p && (p = strchr(p + 1, '/'));)
		r->depth++;
	pci_id(r->bdf, r->id, sizeof(r->id));
	r->kind = pci_kind(r->bdf);
	pci_driver(r->bdf, r->driver, sizeof(r->driver));
	bridge = !strcmp(r->kind, "bridge") || !strcmp(r->kind, "host-bridge");
	r->mem = calloc(nd ? nd : 1, sizeof(*r->mem));
	r->reach = calloc(nd ? nd : 1, sizeof(*r->reach));
	if (!r->mem || !r->reach)
		return -ENOMEM;
	for (j = 0; j < nd; j++) {
		if (!strcmp(d[j].pci, r->bdf)) {
			r->mem[r->nmem++] = &d[j];
			continue;	/* its own memory is no peer's */
		}
		/* libp2pmem ranks by the same answer. */
		if (bridge || p2pmem_reach(d[j].name, r->bdf, &v) ||
		    v.route == P2PMEM_REACH_UNSUPPORTED)
			continue;
		r->reach[r->nreach++] = (struct tree_reach){ &d[j], v.route, v.distance };
	}
	return 0;
}

static void tree_free(struct tree_row *rows, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(rows[i].mem);
		free(rows[i].reach);
	}
	free(rows);
}

/* Every PCI function in sysfs, in tree order; *out is malloc()ed. */
static int tree_collect(const struct p2pmem_info *d, int nd, struct tree_row **out)
{
	struct tree_row *rows = NULL, *grown;
	struct dirent *e;
	int n = 0, ret = 0;
	DIR *dir = opendir(PCIDEVS);

	*out = NULL;
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		grown = realloc(rows, (n + 1) * sizeof(*rows));
		if (!grown) {
			ret = -ENOMEM;
			break;
		}
		rows = grown;
		memset(&rows[n], 0, sizeof(rows[n]));
		ret = tree_row_collect(&rows[n], e->d_name, d, nd);
		if (!ret || ret == -ENOMEM)
			n++;	/* tree_free() frees what it got */
		if (ret == -ENOMEM)
			break;
		/* A device that went away meanwhile is skipped. */
		ret = 0;
	}
	closedir(dir);
	if (ret) {
		tree_free(rows, n);
		return ret;
	}
	qsort(rows, n, sizeof(*rows), by_path);
	*out = rows;
	return n;
}

static void tree_print_text(const struct tree_row *rows, int n)
{
	const char *domain = "";
	char sz[32];
	int i, j;

	for (i = 0; i < n; i++) {
		const struct tree_row *r = &rows[i];

		if (*r->domain && strcmp(domain, r->domain)) {
			domain = r->domain;
			printf("%s\n", domain);
		}
		printf("%*s%s [%s] %s%s%s", 2 * r->depth, "", r->bdf, r->id,
		       r->kind, *r->driver ? " " : "", r->driver);
		for (j = 0; j < r->nmem; j++)
			printf("  <%s %s %s>", r->mem[j]->name,
			       human(r->mem[j]->size, sz, sizeof(sz)), r->mem[j]->backend);
		for (j = 0; j < r->nreach; j++)
			printf("  -> %s %s %d", r->reach[j].mem->name,
			       p2pmem_route_name(r->reach[j].route), r->reach[j].distance);
		putchar('\n');
	}
}

static int tree_print_json(const struct tree_row *rows, int n)
{
	json_object *a = json_object_new_array(), *o, *l, *x;
	int i, j;

	for (i = 0; i < n; i++) {
		const struct tree_row *r = &rows[i];

		o = json_object_new_object();
		json_object_object_add(o, "pci", json_str(r->bdf));
		json_object_object_add(o, "depth", json_object_new_int(r->depth));
		json_object_object_add(o, "id", json_str(r->id));
		json_object_object_add(o, "kind", json_str(r->kind));
		json_object_object_add(o, "driver", json_str(r->driver));
		l = json_object_new_array();
		for (j = 0; j < r->nmem; j++)
			json_object_array_add(l, json_str(r->mem[j]->name));
		json_object_object_add(o, "p2pmem", l);
		l = json_object_new_array();
		for (j = 0; j < r->nreach; j++) {
			x = json_object_new_object();
			json_object_object_add(x, "p2pmem", json_str(r->reach[j].mem->name));
			json_object_object_add(x, "route",
					       json_str(p2pmem_route_name(r->reach[j].route)));
			json_object_object_add(x, "distance",
					       json_object_new_int(r->reach[j].distance));
			json_object_array_add(l, x);
		}
		json_object_object_add(o, "reaches", l);
		json_object_array_add(a, o);
	}
	return json_print(stdout, a);
}

static int list_tree(const struct opts *o)
{
	struct p2pmem_info *d;
	struct tree_row *rows;
	int n, nd, ret = 0;

	nd = p2pmem_list(&d);
	if (nd < 0)
		return fail("list: %s", strerror(-nd));
	n = tree_collect(d, nd, &rows);
	if (n < 0) {
		free(d);
		return fail("list: %s: %s", PCIDEVS, strerror(-n));
	}
	if (o->json)
		ret = tree_print_json(rows, n) ? fail("list: out of memory") : 0;
	else
		tree_print_text(rows, n);
	tree_free(rows, n);
	free(d);
	return ret;
}

static int cmd_list(const struct opts *o, int argc, char **argv)
{
	return o->tree ? list_tree(o) : list_plain(o);
}

/* ---- info --------------------------------------------------------------- */

static const char *const info_attrs[] = {
	"size", "available", "allocated", "bar", "offset", "phys_addr",
	"bus_addr", "numa_node", "backend", "provider", "host_bridge",
	"acs_redirect",
};
#define N_INFO_ATTRS (sizeof(info_attrs) / sizeof(info_attrs[0]))

/* Every attribute of one device (those it has), then its upstream chain. */
struct info_rec {
	struct p2pmem_info d;
	char val[N_INFO_ATTRS][256];
	bool has[N_INFO_ATTRS];
	char **upstream;	/* one port a line: "BDF kind acs=..." */
	size_t nup;
};

static void info_free(struct info_rec *r)
{
	size_t i;

	for (i = 0; i < r->nup; i++)
		free(r->upstream[i]);
	free(r->upstream);
}

static int info_collect(const char *name, struct info_rec *r)
{
	char path[PATH_MAX], *line = NULL, **grown;
	size_t i, cap = 0;
	ssize_t len;
	FILE *f;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = p2pmem_get_info(name, &r->d);
	if (ret)
		return ret;
	for (i = 0; i < N_INFO_ATTRS; i++) {
		ret = sysfs_read(r->val[i], sizeof(r->val[i]),
				 SYSFS_P2PMEM_CLASS "/%s/%s", r->d.name, info_attrs[i]);
		r->has[i] = !ret;
		/* Left out, not cut short; and said, not left out silently. */
		if (ret == -EOVERFLOW)
			fail("info: %s: %s longer than %zu bytes, left out", r->d.name,
			     info_attrs[i], sizeof(r->val[i]) - 1);
	}
	ret = 0;
	/* Several lines: the one attribute sysfs_read() does not fit. */
	snprintf(path, sizeof(path), SYSFS_P2PMEM_CLASS "/%s/upstream", r->d.name);
	f = fopen(path, "re");
	while (f && (len = getline(&line, &cap, f)) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		grown = realloc(r->upstream, (r->nup + 1) * sizeof(*grown));
		if (!grown || !(grown[r->nup] = strdup(line))) {
			if (grown)
				r->upstream = grown;
			ret = -ENOMEM;
			break;
		}
		r->upstream = grown;
		r->nup++;
	}
	free(line);
	if (f)
		fclose(f);
	return ret;
}

static void info_print_text(const struct info_rec *r)
{
	size_t i;

	printf("name: %s\npci: %s\nid: %04x:%04x\n", r->d.name, r->d.pci,
	       r->d.vendor, r->d.device);
	for (i = 0; i < N_INFO_ATTRS; i++)
		if (r->has[i])
			printf("%s: %s\n", info_attrs[i], r->val[i]);
	for (i = 0; i < r->nup; i++)
		printf("upstream: %s\n", r->upstream[i]);
}

static int info_print_json(const struct info_rec *r)
{
	json_object *o = json_object_new_object(), *up = json_object_new_array();
	char id[16];
	size_t i;

	json_object_object_add(o, "name", json_str(r->d.name));
	json_object_object_add(o, "pci", json_str(r->d.pci));
	snprintf(id, sizeof(id), "%04x:%04x", r->d.vendor & 0xffff, r->d.device & 0xffff);
	json_object_object_add(o, "id", json_str(id));
	for (i = 0; i < N_INFO_ATTRS; i++)
		if (r->has[i])
			json_object_object_add(o, info_attrs[i], json_str(r->val[i]));
	for (i = 0; i < r->nup; i++)
		json_object_array_add(up, json_str(r->upstream[i]));
	json_object_object_add(o, "upstream", up);
	return json_print(stdout, o);
}

static int cmd_info(const struct opts *o, int argc, char **argv)
{
	struct info_rec r;
	int ret;

	ret = info_collect(argv[0], &r);
	if (ret == -ENODEV)
		ret = fail("info: %s: no such p2pmem device", argv[0]);
	else if (ret)
		ret = fail("info: %s: %s", argv[0], strerror(-ret));
	else if (o->json)
		ret = info_print_json(&r) ? fail("info: out of memory") : 0;
	else
		info_print_text(&r);
	info_free(&r);
	return ret;
}

/* ---- check -------------------------------------------------------------- */

static void check_print_text(const struct p2pmem_choice *c, int n)
{
	char sz[32];
	int i;

	for (i = 0; i < n; i++)
		printf("%s %s %s distance=%d available=%s\n", c[i].info.name,
		       c[i].info.pci, c[i].host_bridge_routes ? "host-bridge" : "direct",
		       c[i].distance, human(c[i].info.available, sz, sizeof(sz)));
	if (!n)
		fail("check: no p2pmem device is reachable by all of them");
}

static int check_print_json(const struct p2pmem_choice *c, int n)
{
	json_object *a = json_object_new_array(), *o;
	int i;

	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_str(c[i].info.name));
		json_object_object_add(o, "pci", json_str(c[i].info.pci));
		json_object_object_add(o, "host_bridge_routes",
				       json_object_new_int(c[i].host_bridge_routes));
		json_object_object_add(o, "distance", json_object_new_int(c[i].distance));
		json_object_object_add(o, "available",
				       json_object_new_uint64(c[i].info.available));
		json_object_array_add(a, o);
	}
	return json_print(stdout, a);
}

/* 0 when some p2pmem device is reachable by all, 1 when none is. */
static int cmd_check(const struct opts *o, int argc, char **argv)
{
	struct p2pmem_choice *c;
	int n, i, ret;

	n = p2pmem_rank((const char *const *)argv, argc, &c);
	if (n == -ENOENT) {
		for (i = 0; i < argc - 1 && pci_exists(argv[i]); i++)
			;
		return fail("check: no PCI device %s", argv[i]);
	}
	if (n < 0)
		return fail("check: %s", strerror(-n));
	if (o->json)
		ret = check_print_json(c, n) ? fail("check: out of memory") : 0;
	else
		ret = (check_print_text(c, n), 0);
	free(c);
	return ret ? ret : n ? 0 : 1;
}

/* ---- bind / unbind ------------------------------------------------------ */

/* Where the module looks up the BAR of a match that names none. */
#define BARS "/sys/module/p2pmem/parameters/bars"

static int set_override(const char *bdf, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCIDEVS "/%s/driver_override", bdf);
	return sysfs_write(path, *val ? val : "\n");
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

	ret = sysfs_read(old, len, "%s", BARS);
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
	return sysfs_write(BARS, new);
}

/* The BAR the p2pmem device of @bdf publishes, or -1. */
static int bound_bar(const char *bdf)
{
	struct p2pmem_info *d;
	char val[16];
	int n, i, bar = -1;

	n = p2pmem_list(&d);
	for (i = 0; i < n && bar < 0; i++)
		if (!strcmp(d[i].pci, bdf) &&
		    !sysfs_read(val, sizeof(val), SYSFS_P2PMEM_CLASS "/%s/bar", d[i].name))
			bar = atoi(val);
	if (n >= 0)
		free(d);
	return bar;
}

static int cmd_bind(const struct opts *o, int argc, char **argv)
{
	char drv[64], old[4096];
	const char *bdf = argv[0];
	int bar = -1, lock = -1, got, ret;
	sigset_t mask;

	if (o->bar) {
		if (!*o->bar || strspn(o->bar, "0123456789") != strlen(o->bar) ||
		    strlen(o->bar) > 1 || (bar = atoi(o->bar)) > 5) {
			fail("bind: --bar takes a BAR index, 0 to 5");
			return 2;
		}
	}
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
	ret = sysfs_write(DRIVER "/bind", bdf);
	if (ret) {
		ret = fail("bind: %s: %s (see dmesg)", bdf, strerror(-ret));
		goto undo_override;
	}
	/* An ids= entry naming a BAR for these IDs is matched first. */
	got = bound_bar(bdf);
	if (bar >= 0 && got != bar) {
		sysfs_write(DRIVER "/unbind", bdf);
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
		sysfs_write(BARS, *old ? old : "\n");
out:
	if (lock >= 0)
		close(lock);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	return ret;
}

static int cmd_unbind(const struct opts *o, int argc, char **argv)
{
	char drv[64];
	int ret;

	if (!pci_exists(argv[0]))
		return fail("unbind: no PCI device %s", argv[0]);
	pci_driver(argv[0], drv, sizeof(drv));
	if (strcmp(drv, "p2pmem"))
		return fail("unbind: %s is not bound to p2pmem (%s)", argv[0],
			    *drv ? drv : "no driver");
	ret = sysfs_write(DRIVER "/unbind", argv[0]);
	if (ret)
		return fail("unbind: %s: %s", argv[0], strerror(-ret));
	set_override(argv[0], "");
	printf("unbound %s from p2pmem\n", argv[0]);
	return 0;
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
	if (sysfs_read(dev, sizeof(dev), SYSFS_P2PMEM_CLASS "/%s/dev", name) ||
	    sscanf(dev, "%u:%u", &maj, &min) != 2)
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

/*
 * What a test did, step by step, printed once it is over.  Static: the
 * steps are written between sigsetjmp() and a SIGBUS's siglongjmp().
 */
#define TEST_STEPS 8
static struct test_report {
	const char *name, *nvme;
	char pci[32];		/* the namespace's controller, if found */
	bool reached;		/* the module's verdict for it is in @v */
	struct p2pmem_verdict v;
	struct {
		bool ok;
		const char *what;
	} step[TEST_STEPS];
	int nsteps;
	unsigned long long bytes;
	bool bad;
} rep;

static int step(bool ok, const char *what)
{
	if (rep.nsteps < TEST_STEPS)
		rep.step[rep.nsteps++] = (typeof(rep.step[0])){ ok, what };
	rep.bad |= !ok;
	return ok ? 0 : 1;
}

static void test_print_text(const struct test_report *r)
{
	int i;

	if (r->reached)
		printf("info %s\n", r->v.line);
	for (i = 0; i < r->nsteps; i++)
		printf("%s %s\n", r->step[i].ok ? "ok  " : "FAIL", r->step[i].what);
	printf("%s: %llu bytes through %s and %s\n", r->bad ? "FAILED" : "PASSED",
	       r->bytes, r->name, r->nvme);
}

static int test_print_json(const struct test_report *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "p2pmem", json_str(r->name));
	json_object_object_add(o, "nvme", json_str(r->nvme));
	json_object_object_add(o, "pci", json_str(r->pci));
	json_object_object_add(o, "bytes", json_object_new_uint64(r->bytes));
	json_object_object_add(o, "result", json_str(r->bad ? "fail" : "ok"));
	return json_print(stdout, o);
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

/*
 * The test proper, from the saved bytes on: signals held and SIGBUS
 * caught until the namespace has its bytes back.  A function of its own
 * so that nothing live across sigsetjmp() is a local that a jump may lose.
 */
static void test_guarded(int blk, unsigned char *buf, unsigned char *save,
			 unsigned char *want, unsigned long long size,
			 unsigned long long offset)
{
	struct sigaction lost = { .sa_handler = test_lost }, old_bus;
	sigset_t old;
	bool restored;

	hold_signals(&old);
	sigaction(SIGBUS, &lost, &old_bus);
	pattern_fill(want, size, 0x70327032);
	/* The steps land in the static report, which a jump leaves as it was. */
	if (!sigsetjmp(test_lost_jmp, 1))
		test_through(blk, buf, want, size, offset);
	else
		step(false, "the p2p memory was revoked during the test (SIGBUS)");
	sigaction(SIGBUS, &old_bus, NULL);
	restored = io_full(blk, save, size, (off_t)offset, true) &&
		   io_full(blk, want, size, (off_t)offset, false) &&
		   !memcmp(want, save, size);
	sigprocmask(SIG_SETMASK, &old, NULL);
	step(restored, "restored the namespace's original bytes and read them back");
	if (!restored)
		fail("test: %s: the %llu bytes at offset %llu could NOT be restored",
		     rep.nvme, size, offset);
}

static int cmd_test(const struct opts *o, int argc, char **argv)
{
	unsigned long long size = 4 << 20, offset = 0;
	const char *name = argv[0], *nvme = o->nvme;
	unsigned char *buf, *save = NULL, *want = NULL;
	int fd = -1, blk = -1, ret = 0;

	if (!nvme) {
		fail("test: --nvme /dev/nvmeXnY is required");
		return 2;
	}
	if (o->size)
		size = parse_size(o->size);
	if (o->offset)
		offset = parse_size(o->offset);
	if (!size || size % 4096 || offset % 4096 || size > SIZE_MAX || offset + size < offset) {
		fail("test: --size and --offset must be multiples of 4096 (size not 0)");
		return 2;
	}
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
	memset(&rep, 0, sizeof(rep));
	rep.name = name;
	rep.nvme = nvme;
	rep.bytes = size;
	block_pci(blk, rep.pci, sizeof(rep.pci));
	rep.reached = *rep.pci && !p2pmem_reach(name, rep.pci, &rep.v);
	buf = p2pmem_alloc(fd, size);
	if (!buf) {
		ret = fail("test: mapping %llu bytes of %s: %s", size, name, strerror(errno));
		goto out;
	}
	if (posix_memalign((void **)&save, 4096, size) ||
	    posix_memalign((void **)&want, 4096, size)) {
		ret = fail("test: out of memory");
		goto unmap;
	}
	/* What is on the disk goes back at the end, read and written O_DIRECT. */
	if (step(io_full(blk, save, size, (off_t)offset, false),
		 "saved the namespace's bytes at the offset to RAM"))
		goto report;
	test_guarded(blk, buf, save, want, size, offset);
report:
	if (o->json)
		ret = test_print_json(&rep) ? fail("test: out of memory") : 0;
	else
		test_print_text(&rep);
	ret = ret || rep.bad;
unmap:
	p2pmem_free(buf, size);
out:
	free(save);
	free(want);
	close(blk);
	close(fd);
	return ret ? 1 : 0;
}

/* ---- main --------------------------------------------------------------- */

static const struct cmd {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
	unsigned int opts;	/* the OPT_* it takes */
	int min, max;		/* arguments; max -1: any number */
	const char *args, *help;
} cmds[] = {
	{ "load", cmd_load, OPT_KO, 0, -1, "[--ko FILE] [PARAM=VALUE...]", "load the module (libkmod)" },
	{ "unload", cmd_unload, 0, 0, 0, "", "unload it" },
	{ "list", cmd_list, OPT_TREE, 0, 0, "[-t]", "p2p memory; -t: the PCIe tree and who reaches what" },
	{ "info", cmd_info, 0, 1, 1, "p2pmemN", "everything about one device" },
	{ "bind", cmd_bind, OPT_BAR, 1, 1, "BDF [--bar N]", "give a PCI device's BAR to p2pmem" },
	{ "unbind", cmd_unbind, 0, 1, 1, "BDF", "take it back" },
	{ "check", cmd_check, 0, 1, -1, "BDF...", "p2p memory all these devices can reach, best first" },
	{ "test", cmd_test, OPT_NVME | OPT_SIZE | OPT_OFFSET, 1, 1,
	  "p2pmemN --nvme /dev/nvmeXnY [--size N] [--offset N]",
	  "O_DIRECT through p2p memory, verified, data restored" },
};

static int usage(FILE *f)
{
	size_t i;
	int w;

	fputs("usage: p2pmem [--json] COMMAND [ARGS]   (options may follow the command)\n", f);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		w = fprintf(f, "  %s%s%s", cmds[i].name, *cmds[i].args ? " " : "", cmds[i].args);
		if (w >= 37)
			w = fprintf(f, "\n") - 1;
		fprintf(f, "%*s%s\n", 37 - w, "", cmds[i].help);
	}
	fputs("See p2pmem(1).\n", f);
	return f == stderr ? 2 : 0;
}

/* A usage error: what is wrong, the command's usage line, status 2. */
static int usage_of(const struct cmd *c, const char *what)
{
	if (what)
		fail("%s: %s", c->name, what);
	fprintf(stderr, "usage: p2pmem %s%s%s\n", c->name, *c->args ? " " : "", c->args);
	return 2;
}

/*
 * Options anywhere on the line: "p2pmem list --json" is "p2pmem --json
 * list".  getopt_long() returns the other arguments in order ("-" in the
 * optstring), collected here, rather than permuting argv, which it does
 * not do when POSIXLY_CORRECT is set.  Each command then takes only its
 * own options.  @args has room for argc entries.
 */
static int run(int argc, char **argv, char **args)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "tree", no_argument, NULL, 't' },
		{ "ko", required_argument, NULL, 'k' },
		{ "bar", required_argument, NULL, 'b' },
		{ "nvme", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "offset", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const struct cmd *c = NULL;
	bool help = false;
	size_t i;
	int opt, n = 0;

	while ((opt = getopt_long(argc, argv, "-ht", longopts, NULL)) != -1) {
		switch (opt) {
		case 1: args[n++] = optarg; break;	/* the command, its arguments */
		case 'j': o.json = true; break;
		case 'h': help = true; break;
		case 't': o.tree = true; o.given |= OPT_TREE; break;
		case 'k': o.ko = optarg; o.given |= OPT_KO; break;
		case 'b': o.bar = optarg; o.given |= OPT_BAR; break;
		case 'n': o.nvme = optarg; o.given |= OPT_NVME; break;
		case 's': o.size = optarg; o.given |= OPT_SIZE; break;
		case 'o': o.offset = optarg; o.given |= OPT_OFFSET; break;
		default: return usage(stderr);	/* getopt said what */
		}
	}
	while (optind < argc)	/* after "--": arguments, whatever they look like */
		args[n++] = argv[optind++];
	if (n) {
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !c; i++)
			if (!strcmp(args[0], cmds[i].name))
				c = &cmds[i];
		if (!c) {
			fail("unknown command \"%s\"", args[0]);
			return usage(stderr);
		}
	}
	if (help) {
		if (c)
			return fprintf(stdout, "usage: p2pmem %s %s\n  %s\nSee p2pmem(1).\n",
				       c->name, c->args, c->help) < 0;
		return usage(stdout);
	}
	if (!c)
		return usage(stderr);
	if (o.given & ~c->opts)
		return usage_of(c, "an option it does not take");
	n--;
	if (n < c->min || (c->max >= 0 && n > c->max))
		return usage_of(c, n < c->min ? "missing argument" : "too many arguments");
	return c->fn(&o, n, args + 1);
}

int main(int argc, char **argv)
{
	char **args = calloc(argc + 1, sizeof(*args));
	int ret, bad;

	if (!args)
		return fail("out of memory");
	ret = run(argc, argv, args);
	free(args);
	/*
	 * What a command printed is only written now, or was lost on the way
	 * (a full disk, /dev/full): a failure like any other, said on stderr.
	 */
	bad = ferror(stdout);
	errno = 0;
	if (fclose(stdout) == EOF || bad) {
		fail("write error on standard output%s%s", errno ? ": " : "",
		     errno ? strerror(errno) : "");
		if (!ret)
			ret = 1;
	}
	return ret;
}
