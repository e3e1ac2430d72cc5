// SPDX-License-Identifier: MIT
/*
 * lib/user/block.c, the block-client library: its one retry policy
 * against a scripted driver (what each sys_call answers), and what a
 * failure says about the sectors (block_pager_failure): only the device's
 * ERR_IO may retire a swap slot; a dead or silent driver and a refusal
 * never do, and a refusal is final, not asked again.
 */
#include "htest.h"

#include <string.h>

/* The system calls block.c makes, faked: <ferry/sys.h> is kept out. */
#define FERRY_SYS_H
#include <ferry/abi.h>
#include <ferry/err.h>
#include <ferry/msg.h>

long sys_call(long port, const struct msg *req, struct msg *rep, long timeout_ns);
long sys_grant_forward(unsigned long grant, long pid);
long sys_clock_ns(void);
long sys_sleep(long ns);
long sys_port_lookup(const char *name);
long sys_proc_info(long index, struct proc_info *out);

#include "../../lib/user/block.c"

#define SCRIPT_MAX	8
#define DRIVER_PORT	0x100
#define DRIVER_PID	0x1001

/* What the driver does with each call, in order: a sys_call error, or an
 * answer (BLOCK_OK, or BLOCK_FAIL with a reason). */
struct step {
	long call_err;		/* ERR_TIMEOUT, ERR_DEAD ...: no answer */
	long fail;		/* 0: BLOCK_OK, else BLOCK_FAIL with this reason */
	bool restart;		/* with ERR_DEAD: init starts a new driver (port, pid) */
};

static struct step script[SCRIPT_MAX];
static int nsteps, calls, forwards, lookups;
static long now_ns, port_now, pid_now, forward_err;
static uint64_t forwarded_grant;
static long forwarded_to;

static void reset(void)
{
	memset(script, 0, sizeof(script));
	nsteps = calls = forwards = lookups = 0;
	now_ns = 0;
	port_now = DRIVER_PORT;
	pid_now = DRIVER_PID;
	forward_err = 0;
	forwarded_grant = 0;
	forwarded_to = 0;
}

long sys_call(long port, const struct msg *req, struct msg *rep, long timeout_ns)
{
	(void)timeout_ns;
	if (port != port_now)
		return ERR_BADHANDLE;	/* the dead driver's port */
	if (req->op == BLOCK_INFO) {	/* learn_pid: whoever answers is the driver */
		memset(rep, 0, sizeof(*rep));
		rep->op = BLOCK_OK;
		rep->sender = (uint64_t)pid_now;
		return 0;
	}
	HCHECK(calls < nsteps);
	if (calls >= nsteps)
		return ERR_DEAD;
	const struct step *s = &script[calls++];
	now_ns += MSEC_NS;
	if (s->restart) {
		port_now++;
		pid_now += 0x1000;
	}
	if (s->call_err)
		return s->call_err;
	rep->op = s->fail ? BLOCK_FAIL : BLOCK_OK;
	rep->arg[BLOCK_REPLY_ERROR] = (uint64_t)s->fail;
	rep->sender = (uint64_t)pid_now;
	return 0;
}

long sys_grant_forward(unsigned long grant, long pid)
{
	forwards++;
	if (forward_err)
		return forward_err;
	forwarded_grant = grant;
	forwarded_to = pid;
	return 0;
}

long sys_clock_ns(void)
{
	return now_ns;
}

long sys_sleep(long ns)
{
	now_ns += ns;
	return 0;
}

long sys_port_lookup(const char *name)
{
	(void)name;
	return port_now;
}

long sys_proc_info(long index, struct proc_info *out)
{
	(void)index;
	(void)out;
	return ERR_NOENT;
}

/* A restarted driver: a new port and pid, found at once. */
long ipc_lookup(const char *name, long timeout_ns)
{
	(void)name;
	(void)timeout_ns;
	lookups++;
	return port_now;
}

static void open_client(struct block_client *c)
{
	HCHECK_EQ(block_open(c, "swapd", "nvme", 0), 0);
	HCHECK_EQ(c->pid, DRIVER_PID);
}

/* A DMA read into grant 0x5000, as swapd sends one. */
static long dma_read(struct block_client *c)
{
	struct msg req = { .op = BLOCK_READ }, rep = { 0 };

	req.arg[BLOCK_ARG_MODE] = FILL_GRANT_DMA;
	req.arg[BLOCK_ARG_GRANT] = 0x5000;
	req.arg[BLOCK_ARG_COUNT] = 8;
	return block_call(c, &req, &rep, false);
}

HTEST(refusal_is_final_and_no_media_error)
{
	struct block_client c;

	reset();
	open_client(&c);
	script[0] = (struct step){ .fail = ERR_PERM };
	nsteps = 1;
	HCHECK_EQ(dma_read(&c), ERR_PERM);
	HCHECK_EQ(calls, 1);		/* not asked again */
	HCHECK_EQ(c.retries, 0);
	HCHECK_EQ(block_pager_failure(ERR_PERM), ERR_PERM);
}

HTEST(forward_refused_is_a_refusal)
{
	struct block_client c;

	reset();
	open_client(&c);
	forward_err = ERR_PERM;	/* the kernel: the grant is not ours to forward */
	nsteps = 0;
	HCHECK_EQ(dma_read(&c), ERR_PERM);
	HCHECK_EQ(calls, 0);
	HCHECK_EQ(block_pager_failure(dma_read(&c)), ERR_PERM);
}

HTEST(media_error_is_the_devices)
{
	struct block_client c;

	reset();
	open_client(&c);
	script[0] = (struct step){ .fail = ERR_IO };
	nsteps = 1;
	HCHECK_EQ(dma_read(&c), ERR_IO);
	HCHECK_EQ(calls, 1);
	HCHECK_EQ(block_pager_failure(ERR_IO), ERR_IO);
}

HTEST(lost_answer_asked_again)
{
	struct block_client c;

	reset();
	open_client(&c);
	script[0] = (struct step){ .call_err = ERR_TIMEOUT };
	script[1] = (struct step){ 0 };
	nsteps = 2;
	HCHECK_EQ(dma_read(&c), 0);
	HCHECK_EQ(calls, 2);
	HCHECK_EQ(c.timeouts, 1);
	HCHECK_EQ(forwards, 1);	/* the same driver holds it still */
}

HTEST(dead_driver_reconnected_and_grant_forwarded_again)
{
	struct block_client c;

	reset();
	open_client(&c);
	script[0] = (struct step){ .call_err = ERR_DEAD, .restart = true };
	script[1] = (struct step){ 0 };
	nsteps = 2;
	HCHECK_EQ(dma_read(&c), 0);
	HCHECK_EQ(calls, 2);
	HCHECK_EQ(c.reconnects, 1);
	HCHECK_EQ(lookups, 2);		/* block_open's, then the reconnect's */
	HCHECK_EQ(forwards, 2);		/* to the dead driver, then to the new one */
	HCHECK_EQ(forwarded_to, DRIVER_PID + 0x1000);
	HCHECK_EQ(forwarded_grant, 0x5000);
}

HTEST(no_driver_back_is_away_not_media)
{
	struct block_client c;

	reset();
	open_client(&c);
	script[0] = (struct step){ .call_err = ERR_DEAD };	/* and nobody restarts it */
	nsteps = 1;
	HCHECK_EQ(dma_read(&c), ERR_DEAD);
	HCHECK_EQ(calls, 1);
	HCHECK_EQ(block_pager_failure(ERR_DEAD), ERR_AGAIN);
	HCHECK_EQ(block_pager_failure(ERR_TIMEOUT), ERR_AGAIN);
}

HTEST(pager_failure_table)
{
	HCHECK_EQ(block_pager_failure(0), 0);
	HCHECK_EQ(block_pager_failure(ERR_IO), ERR_IO);
	HCHECK_EQ(block_pager_failure(ERR_DEAD), ERR_AGAIN);
	HCHECK_EQ(block_pager_failure(ERR_TIMEOUT), ERR_AGAIN);
	/* Refusals and requests the driver will not serve: nothing against the sectors. */
	HCHECK_EQ(block_pager_failure(ERR_PERM), ERR_PERM);
	HCHECK_EQ(block_pager_failure(ERR_INVAL), ERR_PERM);
	HCHECK_EQ(block_pager_failure(ERR_RANGE), ERR_PERM);
	HCHECK_EQ(block_pager_failure(ERR_NOMEM), ERR_PERM);
}
