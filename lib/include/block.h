/* SPDX-License-Identifier: MIT */
/*
 * The block-client library (lib/user/block.c): how every client of a disk
 * driver (swapd, fs, blktest) talks to it, the role MINIX's libbdev plays.
 * The protocol is <proto/block.h>; this is the one retry policy and the
 * client's rungs of the timeout ladder:
 *
 *   driver   one request, retries and channel resets included, ends within
 *            BLOCK_DRIVER_BUDGET_NS, answered BLOCK_OK or BLOCK_FAIL;
 *   client   waits BLOCK_CALL_WAIT_NS (> the driver's budget) for each
 *            answer, so a request it asks again is one whose first copy
 *            can no longer complete, and it never sends a copy it could
 *            not wait that long for: the whole request, reconnects
 *            included, ends within BLOCK_CLIENT_BUDGET_NS;
 *   kernel   fails a page request after its overtime (30 s,
 *            kernel/mm/request.c), above the client's budget.
 *
 * The retry policy, for every op (all are idempotent):
 *   - no answer within BLOCK_CALL_WAIT_NS (the answer was lost): ask again;
 *   - the kernel had no memory for the message or the queue was full:
 *     wait BLOCK_BUSY_WAIT_NS and ask again;
 *   - the driver died (ERR_DEAD, its port gone): wait up to
 *     BLOCK_RECONNECT_NS for the restarted driver's port (user/init
 *     restarts it), learn its pid, forward the request's grant to it
 *     again (the kernel gave it back to us when the old one died) and ask
 *     again;
 *   - an answer is final: BLOCK_OK, or BLOCK_FAIL with the driver's
 *     reason (ERR_IO is a media error after the driver's own retries).
 * Giving up, the call answers ERR_TIMEOUT (the driver did not answer in
 * the budget) or ERR_DEAD (no driver came back): never ERR_IO, which
 * only the device can say, so no swap slot is retired for a dead driver.
 * A refusal (ERR_PERM: the driver's access decision, or the kernel's
 * refusal to forward the grant; ERR_INVAL, ERR_RANGE: a request it will
 * not serve) is final as well: asked again, the driver decides the same.
 *
 * What a failure says about the sectors is decided here too, once, for
 * every client that passes a verdict on (block_pager_failure): only
 * ERR_IO is the device's, and only it may cost a swap slot.
 */
#ifndef FERRY_BLOCK_H
#define FERRY_BLOCK_H

#include <ferry/msg.h>
#include <proc.h>
#include <proto/block.h>
#include <stdbool.h>
#include <stdint.h>

#define BLOCK_CALL_WAIT_NS	(10 * SEC_NS)
#define BLOCK_CLIENT_BUDGET_NS	(25 * SEC_NS)
#define BLOCK_RECONNECT_NS	(5 * SEC_NS)
#define BLOCK_BUSY_WAIT_NS	(10 * MSEC_NS)

_Static_assert(BLOCK_CALL_WAIT_NS > BLOCK_DRIVER_BUDGET_NS, "the client outwaits the driver");

struct block_client {
	const char *who;	/* "swapd", "fs": for log lines */
	const char *driver;	/* the driver's port name: "ata", "nvme" */
	long port;		/* the driver's port */
	long pid;		/* the driver's pid (kernel-stamped sender): where grants go */
	uint64_t part;		/* BLOCK_PART() that block_call names */
	/* Forward a request's grant to the driver first (block_open sets it;
	 * blktest clears it to test the driver's own grant checks). */
	bool forward_grants;
	uint64_t grant;		/* the grant last forwarded ... */
	long grant_pid;		/* ... and to which driver */
	/* Counters, for the server's statistics and the tests. */
	uint64_t calls, retries, reconnects, timeouts;
};

/*
 * Finds the driver publishing port `driver` (BLOCK_PORT_NAME, "ata", or
 * BLOCK_PORT_NVME; it may take up to wait_ns to appear) and learns its pid
 * with a BLOCK_INFO of the whole disk.  => 0 or ERR_NOENT.
 */
long block_open(struct block_client *c, const char *who, const char *driver, long wait_ns);
/* block_open() on whichever driver of BLOCK_DRIVERS is process `pid` (a
 * driver another client named, e.g. fs's for a swap file).  => 0, ERR_NOENT. */
long block_open_pid(struct block_client *c, const char *who, long pid, long wait_ns);

/*
 * One request under the retry policy above.  req's BLOCK_ARG_PART is
 * filled from c->part unless `part_set`; with a grant mode and a grant in
 * BLOCK_ARG_GRANT, the grant is forwarded to the driver first (once per
 * driver).  rep's page buffer (copy-mode reads) is kept across retries.
 * => 0 (BLOCK_OK), the driver's BLOCK_FAIL reason, ERR_TIMEOUT, ERR_DEAD,
 *    or the forward's error.
 */
long block_call(struct block_client *c, struct msg *req, struct msg *rep, bool part_set);

/*
 * The pager failure (<proto/pager.h>) a failed block_call becomes, for a
 * pager answering the kernel: ERR_IO when the device failed the sectors
 * (a page-out's slots are then retired), ERR_AGAIN when no driver
 * answered (dead and not back, or silent), ERR_PERM when the driver or
 * the kernel refused the request: a rights refusal or a request it will
 * not serve says nothing against the sectors, and retires no slot.
 * => err == 0: 0.
 */
long block_pager_failure(long err);

/* BLOCK_INFO of partition `part`: *rep holds the BLOCK_REPLY_* fields. */
long block_info(struct block_client *c, uint64_t part, struct msg *rep);

/*
 * Finds the driver and the partition of its disk 0 a client is to use,
 * without knowing which driver it is: partition `want` if nonzero, else
 * the first holding `content` (enum part_content, <part.h>), else the
 * first the driver gives the client at all (its arguments named one: the
 * client's own check of what is there decides).  The drivers are asked in
 * BLOCK_DRIVERS order; one that is still starting (running, its port not
 * yet published) is waited for before a later one is chosen, and one that
 * is not running is passed over.  While no driver is there at all (one
 * being restarted comes back) the search goes on, up to wait_ns; once the
 * drivers there have answered, their answer is final.
 * => 0 with c opened on the driver (c->driver), *part set and *rep its
 *    BLOCK_INFO; ERR_NOENT.
 */
long block_find(struct block_client *c, const char *who, unsigned content, unsigned want,
		unsigned *part, struct msg *rep, long wait_ns);

#endif
