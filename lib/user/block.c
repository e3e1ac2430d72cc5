// SPDX-License-Identifier: MIT
/* The block-client library: <block.h> has the retry policy and the ladder. */
#include <block.h>
#include <ferry/sys.h>
#include <ipc.h>
#include <stdio.h>
#include <string.h>

static long answer_of(const struct msg *rep)
{
	if (rep->op == BLOCK_OK)
		return 0;
	if (rep->op == BLOCK_FAIL && (long)rep->arg[BLOCK_REPLY_ERROR] < 0)
		return (long)rep->arg[BLOCK_REPLY_ERROR];
	return ERR_INVAL;	/* not an answer of the block protocol */
}

/* The driver's pid, from the kernel-stamped sender of an INFO answer. */
static long learn_pid(struct block_client *c)
{
	struct msg req = { .op = BLOCK_INFO, .arg = { BLOCK_PART(0, 0) } }, rep;
	long err;

	memset(&rep, 0, sizeof(rep));
	err = sys_call(c->port, &req, &rep, BLOCK_CALL_WAIT_NS);
	if (err)
		return err;
	c->pid = (long)rep.sender;	/* even a refusal says who the driver is */
	return 0;
}

long block_open(struct block_client *c, const char *who, const char *driver, long wait_ns)
{
	memset(c, 0, sizeof(*c));
	c->who = who;
	c->driver = driver;
	c->forward_grants = true;
	c->port = ipc_lookup(driver, wait_ns);
	if (c->port < 0)
		return ERR_NOENT;
	return learn_pid(c) ? ERR_NOENT : 0;
}

/* The driver died: wait for the restarted one.  => 0, or ERR_DEAD. */
static long reconnect(struct block_client *c, long deadline)
{
	long left = deadline - sys_clock_ns();
	long port;

	if (left <= 0)
		return ERR_DEAD;
	port = ipc_lookup(c->driver, left < BLOCK_RECONNECT_NS ? left : BLOCK_RECONNECT_NS);
	if (port < 0 || port == c->port) {
		printf("%s: the disk driver is gone and no new one came\n", c->who);
		return ERR_DEAD;
	}
	c->port = port;
	if (learn_pid(c))
		return ERR_DEAD;
	c->reconnects++;
	printf("%s: the disk driver came back as pid %ld\n", c->who, c->pid);
	return 0;
}

static bool has_grant(const struct msg *req)
{
	return req->op != BLOCK_INFO && req->op != BLOCK_FLUSH &&
	       (req->arg[BLOCK_ARG_MODE] & BLOCK_MODE_MASK) != FILL_COPY &&
	       req->arg[BLOCK_ARG_GRANT] != 0;
}

/* The driver must hold the grant it is to fill: forwarded once per driver. */
static long forward_grant(struct block_client *c, uint64_t grant)
{
	long err;

	if (c->grant == grant && c->grant_pid == c->pid)
		return 0;
	err = sys_grant_forward((long)grant, c->pid);
	if (err)
		return err;
	c->grant = grant;
	c->grant_pid = c->pid;
	return 0;
}

long block_call(struct block_client *c, struct msg *req, struct msg *rep, bool part_set)
{
	long deadline = sys_clock_ns() + BLOCK_CLIENT_BUDGET_NS, err;
	struct msg saved = *rep;

	if (!part_set)
		req->arg[BLOCK_ARG_PART] = c->part;
	c->calls++;
	/* The first copy has the whole budget: no second look at the clock. */
	for (bool first = true;; first = false) {
		if (!first && deadline - sys_clock_ns() < BLOCK_CALL_WAIT_NS)
			return ERR_TIMEOUT;	/* a copy we could not outwait: none */
		err = c->forward_grants && has_grant(req) ? forward_grant(c, req->arg[BLOCK_ARG_GRANT])
							   : 0;
		if (err == ERR_NOENT)
			err = ERR_DEAD;	/* the driver we knew is gone */
		if (!err) {
			*rep = saved;
			err = sys_call(c->port, req, rep, BLOCK_CALL_WAIT_NS);
		}
		if (!err)
			return answer_of(rep);
		c->retries++;
		if (err == ERR_TIMEOUT) {
			c->timeouts++;
			printf("%s: the disk driver did not answer in %ld s: asking again\n", c->who,
			       BLOCK_CALL_WAIT_NS / SEC_NS);
		} else if (err == ERR_NOMEM || err == ERR_FULL) {
			sys_sleep(BLOCK_BUSY_WAIT_NS);
		} else if (err == ERR_DEAD || err == ERR_BADHANDLE) {
			if (reconnect(c, deadline))
				return ERR_DEAD;
		} else {
			return err;
		}
	}
}

long block_pager_failure(long err)
{
	if (err == 0 || err == ERR_IO)
		return err;
	if (err == ERR_DEAD || err == ERR_TIMEOUT)
		return ERR_AGAIN;
	return ERR_PERM;
}

long block_info(struct block_client *c, uint64_t part, struct msg *rep)
{
	struct msg req = { .op = BLOCK_INFO, .arg = { part } };

	memset(rep, 0, sizeof(*rep));
	return block_call(c, &req, rep, true);
}

/* --- finding a driver --- */

#define FIND_POLL_NS	(10 * MSEC_NS)

/* Is a process of that program running with its rights (a driver that
 * may still publish its port)? */
static bool driver_running(const char *name)
{
	struct proc_info info;

	for (long i = 0; sys_proc_info(i, &info) == 0; i++)
		if (strcmp(info.name, name) == 0 && !(info.flags & PROC_INFO_STRIPPED))
			return true;
	return false;
}

/* What c's driver gives us on disk 0: => the partition that fits (want,
 * else content), with *first the first one given at all; 0: none fits. */
static unsigned fitting(struct block_client *c, unsigned content, unsigned want,
			unsigned *first, struct msg *rep)
{
	uint64_t mine;

	*first = 0;
	if (block_info(c, BLOCK_PART(0, 0), rep))
		return 0;	/* ERR_PERM: nothing on disk 0 is ours */
	mine = rep->arg[BLOCK_REPLY_MINE];
	for (unsigned n = 1; n <= BLOCK_PARTS_MAX; n++) {
		if (!(mine & (1ULL << n)) || (want && n != want) ||
		    block_info(c, BLOCK_PART(0, n), rep))
			continue;
		if (want || BLOCK_TYPE_CONTENT(rep->arg[BLOCK_REPLY_TYPE]) == content)
			return n;
		if (!*first)
			*first = n;
	}
	return 0;
}

/* One look at every driver.  => 0 with the choice made (*part), ERR_AGAIN
 * (an earlier driver is still starting, or none is there yet), ERR_NOENT
 * (the drivers there answered: nothing fits); *fallback: the first
 * driver's first partition given at all. */
static long look(struct block_client *c, const char *who, unsigned content, unsigned want,
		 unsigned *part, struct msg *rep, const char **fallback, unsigned *fallback_part)
{
	static const char *const drivers[] = BLOCK_DRIVERS;
	int answered = 0;

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		unsigned first;

		if (sys_port_lookup(drivers[i]) < 0) {
			if (driver_running(drivers[i]))
				return ERR_AGAIN;
			continue;
		}
		if (block_open(c, who, drivers[i], 0))
			continue;	/* gone since */
		answered++;
		*part = fitting(c, content, want, &first, rep);
		if (*part)
			return 0;
		if (first && !*fallback) {
			*fallback = drivers[i];
			*fallback_part = first;
		}
	}
	return answered ? ERR_NOENT : ERR_AGAIN;
}

long block_find(struct block_client *c, const char *who, unsigned content, unsigned want,
		unsigned *part, struct msg *rep, long wait_ns)
{
	long deadline = sys_clock_ns() + wait_ns;

	for (;;) {
		const char *fallback = NULL;
		unsigned fallback_part = 0;
		long err = look(c, who, content, want, part, rep, &fallback, &fallback_part);

		if (!err)
			return 0;
		/* Every driver there has answered: what was given, or nothing. */
		if (err == ERR_NOENT && fallback && !block_open(c, who, fallback, 0) &&
		    block_info(c, BLOCK_PART(0, fallback_part), rep) == 0) {
			*part = fallback_part;
			return 0;
		}
		if (err == ERR_NOENT || sys_clock_ns() >= deadline)
			return ERR_NOENT;
		sys_sleep(FIND_POLL_NS);
	}
}

long block_open_pid(struct block_client *c, const char *who, long pid, long wait_ns)
{
	static const char *const drivers[] = BLOCK_DRIVERS;
	long deadline = sys_clock_ns() + wait_ns;

	do {
		for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
			if (sys_port_lookup(drivers[i]) >= 0 && !block_open(c, who, drivers[i], 0) &&
			    c->pid == pid)
				return 0;
		sys_sleep(FIND_POLL_NS);
	} while (sys_clock_ns() < deadline);
	return ERR_NOENT;
}
