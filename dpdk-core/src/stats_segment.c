/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats_segment.c — creating, publishing and removing the stats segment
 * (see stats_segment.h and <switchyard/stats_segment.h>).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_config.h>

#include <switchyard/stats_segment.h>

#include "dataplane.h"
#include "stats_segment.h"

static_assert(RTE_MAX_LCORE <= SY_SSEG_MAX_PMDS,
	      "every forwarding lcore has a record in the segment (raise SY_SSEG_MAX_PMDS)");

static struct {
	struct sy_stats_segment *map;   /* the shared mapping */
	struct sy_stats_segment *stage; /* gathered here, then copied */
	int fd;                         /* held open: its flock says "in use" */
	dev_t dev;
	ino_t ino;
	uint64_t last_ns;
	char path[SY_PATH_MAX];
} ss = { .fd = -1 };

/* Link and admin state of the ports being gathered, by id order. */
struct port_link {
	uint32_t id;
	uint8_t link_up, admin_up;
};

struct gather {
	struct port_link link[SY_SSEG_MAX_PORTS];
	unsigned int n_link;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- gathering --- */

static void
link_cb(const struct sy_port_desc *d, void *arg)
{
	struct gather *g = arg;

	if (g->n_link < SY_SSEG_MAX_PORTS)
		g->link[g->n_link++] = (struct port_link){ d->id, d->link_up, d->admin_up };
}

static void
port_cb(const struct sy_port_stats *st, void *arg)
{
	struct gather *g = arg;
	struct sy_stats_segment *s = ss.stage;
	struct sy_sseg_port *p;

	if (s->hdr.n_ports >= SY_SSEG_MAX_PORTS)
		return;
	p = &s->port[s->hdr.n_ports++];
	memset(p, 0, sizeof(*p));
	p->st = *st;
	/* Both lists are in id order and name the same ports. */
	for (unsigned int i = 0; i < g->n_link; i++)
		if (g->link[i].id == st->id) {
			p->link_up = g->link[i].link_up;
			p->admin_up = g->link[i].admin_up;
			break;
		}
}

static void
table_cb(const struct sy_table_desc *d, void *arg)
{
	struct sy_stats_segment *s = ss.stage;

	if (s->hdr.n_tables >= SY_SSEG_MAX_TABLES)
		return;
	s->table[s->hdr.n_tables++] = (struct sy_sseg_table){
		.id = d->id, .n_flows = d->n_flows, .lookups = d->lookups, .matched = d->matched,
	};
}

static void
pmd_cb(const struct sy_pmd_stats *st, void *arg)
{
	struct sy_stats_segment *s = ss.stage;

	if (s->hdr.n_pmds < SY_SSEG_MAX_PMDS)
		s->pmd[s->hdr.n_pmds++] = *st;
}

void
sseg_publish(void)
{
	struct sy_stats_segment *s = ss.stage, *m = ss.map;
	struct gather g;
	struct sy_error err;
	uint64_t seq;

	if (m == NULL)
		return;
	s->hdr.n_ports = s->hdr.n_tables = s->hdr.n_pmds = 0;
	dp_stats(&s->dp);
	g.n_link = 0;
	dp_port_list(link_cb, &g);
	dp_port_stats(0, port_cb, &g, &err);
	dp_table_list(table_cb, NULL);
	dp_pmd_stats(pmd_cb, NULL);
	s->hdr.time_ns = now_ns();
	ss.last_ns = s->hdr.time_ns;

	/* The seqlock: odd while the records change (readers retry), even
	 * again after.  Only this thread writes; it never waits. */
	seq = m->hdr.seq;
	__atomic_store_n(&m->hdr.seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	m->hdr.time_ns = s->hdr.time_ns;
	m->hdr.n_publish++;
	m->hdr.n_ports = s->hdr.n_ports;
	m->hdr.n_tables = s->hdr.n_tables;
	m->hdr.n_pmds = s->hdr.n_pmds;
	m->dp = s->dp;
	memcpy(m->port, s->port, s->hdr.n_ports * sizeof(s->port[0]));
	memcpy(m->table, s->table, s->hdr.n_tables * sizeof(s->table[0]));
	memcpy(m->pmd, s->pmd, s->hdr.n_pmds * sizeof(s->pmd[0]));
	__atomic_store_n(&m->hdr.seq, seq + 2, __ATOMIC_RELEASE);
}

void
sseg_periodic(void)
{
	if (ss.map != NULL && now_ns() - ss.last_ns >= SY_SSEG_PERIOD_MS * 500000ull)
		sseg_publish();
}

bool
sseg_changed_by(uint16_t type)
{
	switch (type) {
	case SY_MSG_PORT_ADD:
	case SY_MSG_PORT_DEL:
	case SY_MSG_PORT_MOD:
	case SY_MSG_PORT_STATS_CLEAR:
	case SY_MSG_PMD_STATS_CLEAR:
	case SY_MSG_TABLE_MOD:
		return true;
	}
	return false;
}

const char *
sseg_path(void)
{
	return ss.map != NULL ? ss.path : NULL;
}

/* --- the file --- */

/* path, absolute, into ss.path: its directory resolved (it must exist). */
static int
absolute_path(const char *path, char *err, size_t errlen)
{
	char dcopy[SY_PATH_MAX], bcopy[SY_PATH_MAX], dir[PATH_MAX];
	const char *base;

	if (path[0] == '\0' || strlen(path) >= SY_PATH_MAX)
		return fail(err, errlen, "stats segment '%s': empty or too long a path", path);
	snprintf(dcopy, sizeof(dcopy), "%s", path);
	snprintf(bcopy, sizeof(bcopy), "%s", path);
	base = basename(bcopy);
	if (base[0] == '\0' || strcmp(base, "/") == 0 || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return fail(err, errlen, "stats segment '%s': not a file name", path);
	if (realpath(dirname(dcopy), dir) == NULL)
		return fail(err, errlen, "stats segment %s: its directory: %s", path,
			    strerror(errno));
	if ((size_t)snprintf(ss.path, sizeof(ss.path), "%s/%s", strcmp(dir, "/") ? dir : "",
			     base) >= sizeof(ss.path))
		return fail(err, errlen, "stats segment %s: path too long", path);
	return 0;
}

/* Removes a file left at ss.path by a data plane that is gone; refuses
 * one that a running data plane holds, or anything but a regular file. */
static int
remove_stale(char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	if (lstat(ss.path, &st) < 0)
		return errno == ENOENT ? 0 : fail(err, errlen, "stats segment %s: %s", ss.path,
						   strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, "stats segment %s exists and is not a regular file",
			    ss.path);
	fd = open(ss.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "stats segment %s: %s", ss.path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct sy_sseg_hdr h;

		e = errno;
		memset(&h, 0, sizeof(h));
		if (e == EWOULDBLOCK && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    h.magic == SY_SSEG_MAGIC) {
			close(fd);
			return fail(err, errlen,
				    "stats segment %s is in use by a running data plane (pid %u)",
				    ss.path, h.pid);
		}
		close(fd);
		return fail(err, errlen, "stats segment %s: %s", ss.path,
			    e == EWOULDBLOCK ? "in use by another process" : strerror(e));
	}
	close(fd);
	if (unlink(ss.path) < 0 && errno != ENOENT)
		return fail(err, errlen, "stats segment %s: cannot remove the stale file: %s",
			    ss.path, strerror(errno));
	return 0;
}

int
sseg_init(const char *path, char *err, size_t errlen)
{
	struct sy_dp_info info;
	struct stat st;
	struct sy_sseg_hdr *h;
	void *p;

	if (ss.map != NULL)
		return fail(err, errlen, "stats segment: already created at %s", ss.path);
	if (absolute_path(path, err, errlen) < 0 || remove_stale(err, errlen) < 0)
		return -1;
	ss.stage = calloc(1, sizeof(*ss.stage));
	if (ss.stage == NULL)
		return fail(err, errlen, "stats segment %s: out of memory", ss.path);
	ss.fd = open(ss.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ss.fd < 0) {
		fail(err, errlen, "cannot create the stats segment %s: %s", ss.path,
		     strerror(errno));
		goto fail_free;
	}
	/* The mode is 0600 whatever the umask; the lock says we are alive. */
	if (fchmod(ss.fd, 0600) < 0 || flock(ss.fd, LOCK_EX | LOCK_NB) < 0 ||
	    ftruncate(ss.fd, (off_t)sizeof(struct sy_stats_segment)) < 0 ||
	    fstat(ss.fd, &st) < 0) {
		fail(err, errlen, "cannot set up the stats segment %s: %s", ss.path,
		     strerror(errno));
		goto fail_unlink;
	}
	p = mmap(NULL, sizeof(struct sy_stats_segment), PROT_READ | PROT_WRITE, MAP_SHARED,
		 ss.fd, 0);
	if (p == MAP_FAILED) {
		fail(err, errlen, "cannot map the stats segment %s: %s", ss.path, strerror(errno));
		goto fail_unlink;
	}
	ss.dev = st.st_dev;
	ss.ino = st.st_ino;
	dp_info(&info);
	h = &((struct sy_stats_segment *)p)->hdr;
	h->version = SY_SSEG_VERSION;
	h->hdr_size = sizeof(struct sy_sseg_hdr);
	h->size = sizeof(struct sy_stats_segment);
	h->max_ports = SY_SSEG_MAX_PORTS;
	h->max_tables = SY_SSEG_MAX_TABLES;
	h->max_pmds = SY_SSEG_MAX_PMDS;
	h->drop_slots = SY_DROP_SLOTS;
	h->port_size = sizeof(struct sy_sseg_port);
	h->table_size = sizeof(struct sy_sseg_table);
	h->pmd_size = sizeof(struct sy_pmd_stats);
	h->period_ms = SY_SSEG_PERIOD_MS;
	h->pid = info.pid;
	h->n_workers = info.n_workers;
	h->start_ns = info.start_ns;
	h->tsc_hz = info.tsc_hz;
	h->live = 1;
	/* The magic last: a reader that sees it sees the rest. */
	__atomic_store_n(&h->magic, SY_SSEG_MAGIC, __ATOMIC_RELEASE);
	ss.map = p;
	sseg_publish();
	return 0;

fail_unlink:
	unlink(ss.path);
	close(ss.fd);
	ss.fd = -1;
fail_free:
	free(ss.stage);
	ss.stage = NULL;
	return -1;
}

void
sseg_fini(void)
{
	struct stat st;

	if (ss.map == NULL)
		return;
	/* A reader still mapping it (its connection not yet closed) learns
	 * that the counters stopped. */
	__atomic_store_n(&ss.map->hdr.live, 0, __ATOMIC_RELEASE);
	munmap(ss.map, sizeof(*ss.map));
	ss.map = NULL;
	/* Remove the file only if it is still ours. */
	if (stat(ss.path, &st) == 0 && st.st_dev == ss.dev && st.st_ino == ss.ino)
		unlink(ss.path);
	close(ss.fd);
	ss.fd = -1;
	free(ss.stage);
	ss.stage = NULL;
}
