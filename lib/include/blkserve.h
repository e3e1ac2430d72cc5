/* SPDX-License-Identifier: MIT */
/*
 * The server side of the block protocol (<proto/block.h>), for every disk
 * driver (user/ata, user/nvme): lib/user/blkserve.c owns the request loop,
 * the driver supplies what only it knows (struct blkserve_driver), as a
 * MINIX driver fills a struct blockdriver.
 *
 * The model
 * ---------
 * One driver thread serves one call at a time, each answered before the
 * next is received:
 *
 *   1. receive into the driver's copy buffer (a write's data lands where
 *      its DMA can take it); a send, which nobody waits on, is dropped;
 *   2. the op names a handler (info, read, write, flush: the table in
 *      blkserve.c, its names in the log lines); any other is ERR_NOSYS;
 *   3. the kernel-stamped sender is the client: its program name and
 *      whether it runs with its configuration's rights, looked up by pid
 *      (sys_proc_info) and kept in a small table, never taken from the
 *      message;
 *   4. the driver's resolve() decides what the client may touch
 *      (<part.h>: part_access_resolve), then the driver's handler serves;
 *   5. a failure is logged in one format, the same for every driver
 *      ("read of disk0 part1 (...) by fs (pid ...): ..."), and answered
 *      BLOCK_FAIL; the answer is retried while the kernel lacks frames
 *      for its pages (the client, often the pager, waits on it).
 *
 * Ownership: struct blkserve and its client table belong to the driver's
 * one thread; nothing here is shared, so nothing is locked.  A grant named
 * by a request is the sender's to forward: blkserve_grant checks that the
 * kernel says the sender forwarded it, and ends it unused if not.
 *
 * Two files: blkserve.c, the loop and what asks the kernel (Ferry only);
 * blkserve_runs.c, a request's runs decoded and checked, pure, so that the
 * drivers' host tests (and tests/host/test_blkserve.c) include it.
 */
#ifndef FERRY_BLKSERVE_H
#define FERRY_BLKSERVE_H

#include <ferry/abi.h>
#include <ferry/msg.h>
#include <part.h>
#include <proto/block.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#define BLKSERVE_CLIENTS	16	/* senders remembered */
#define BLKSERVE_BUF_PAGES	GRANT_MAX_PAGES	/* the copy buffer: a request's pages */

/* A client, as the kernel describes the sender of a request. */
struct blkserve_client {
	uint64_t pid;		/* index + generation: never names another process */
	char name[PROC_NAME_MAX];
	bool stripped;		/* a service's copy without its rights (PROC_INFO_STRIPPED) */
};

/* One request on its way through dispatch. */
struct blkserve_call {
	const struct msg *m;
	const struct blkserve_client *client;	/* NULL: no such sender (any more) */
	struct part_access acc;	/* what it may touch, once resolved */
	const char *why;	/* a refusal's reason, for the log line */
};

/* What a driver supplies.  Handlers answer into ans (op BLOCK_OK), or
 * return the error to send. */
struct blkserve_driver {
	/* One log line, without the driver's prefix or the newline. */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	/* Sets c->acc for c->client (any partition of the disk will do when
	 * `info`).  => 0, ERR_PERM (c->why), ERR_NOENT. */
	long (*resolve)(void *drv, struct blkserve_call *c, bool info);
	long (*info)(void *drv, struct blkserve_call *c, struct msg *ans);
	/* BLOCK_READ, BLOCK_WRITE */
	long (*rw)(void *drv, struct blkserve_call *c, struct msg *ans, bool write);
	long (*flush)(void *drv, struct blkserve_call *c, struct msg *ans);
	/* After each call is served, before it is answered; may be NULL. */
	void (*served)(void *drv);
};

struct blkserve {
	const struct blkserve_driver *drv;
	void *ctx;		/* the driver's state: every callback's drv */
	long port;
	uint8_t *buf;		/* BLKSERVE_BUF_PAGES: where requests' pages land */
	struct blkserve_client clients[BLKSERVE_CLIENTS];
	unsigned next_client;
};

/* The client as <part.h> sees it (c must outlive the result). */
static inline struct part_client blkserve_part_client(const struct blkserve_client *c)
{
	return (struct part_client){ .pid = c->pid, .name = c->name, .stripped = c->stripped };
}

/* --- blkserve_runs.c: a request's runs (pure: host tests include it) --- */

/* One run of a request, checked: where on the disk, where in the data area. */
struct blkserve_run {
	uint64_t lba;		/* on the disk (namespace) */
	uint32_t count;
	uint32_t offset;	/* into the area */
};

struct blkserve_runs {
	int nruns;
	struct blkserve_run run[BLOCK_RUNS_MAX];
	uint32_t sectors;	/* over all runs */
	uint32_t end;		/* bytes of the area the runs reach */
};

/*
 * A read or write's runs, checked (blkserve_runs_check) and recorded in
 * rs: the list in the request's page (BLOCK_F_RUNS in flags; page is where
 * it landed), or the one run its arguments name.
 * => 0; ERR_INVAL (malformed), ERR_RANGE (outside p or the area).
 */
long blkserve_runs_of(const struct msg *m, uint32_t flags, const void *page,
		      const struct part *p, uint32_t area_bytes, struct blkserve_runs *rs);
/*
 * Checks runs (sectors relative to p) against p and an area of area_bytes,
 * and records them with disk LBAs in rs.
 * => 0; ERR_INVAL (no runs, a zero count, more than BLOCK_MAX_SECTORS in
 *    all, a misaligned offset); ERR_RANGE (outside p or the area).
 */
long blkserve_runs_check(struct blkserve_runs *rs, const struct part *p,
			 const struct block_run *runs, int n, uint32_t area_bytes);
/* Every run of rs inside one of acc's ranges (when it has any).
 * => 0, or ERR_PERM with *why set. */
long blkserve_runs_allowed(const struct part_access *acc, const struct blkserve_runs *rs,
			   const char **why);

/* --- blkserve.c: the loop and the kernel (Ferry only) --- */

/* Serves s->port for good (steps 1-5). */
noreturn void blkserve_loop(struct blkserve *s);
/* One call, steps 2-5 but the answer.  => 0 with ans set, or the error. */
long blkserve_dispatch(struct blkserve *s, const struct msg *m, struct msg *ans);
/*
 * The grant a grant-mode request names: ours, forwarded by the sender, of
 * its mode, writable for a read, at most GRANT_MAX_PAGES.  One that fails
 * is ended at once, no transfer having started.
 * => 0 with *gi set; ERR_BADHANDLE, ERR_PERM (another's), ERR_INVAL.
 */
long blkserve_grant(const struct msg *m, uint32_t mode, bool write, struct grant_info *gi);
/*
 * One driver argument both drivers take: a policy key (part_policy_parse)
 * or timeout=MS (10..2000: two attempts and two resets fit the request's
 * budget), into *timeout_ns.  => 0; ERR_INVAL (*why says what is wrong,
 * nothing changed); ERR_NOENT when it is neither, for the driver's own.
 */
long blkserve_option(struct part_policy *pol, uint64_t *timeout_ns, const char *arg,
		     const char **why);
/* The kernel's word on allowance id (<part.h>: part_allowance_fn): live, or NULL. */
const struct allow_info *blkserve_allowance(uint64_t id);

#endif
