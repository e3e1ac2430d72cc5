/* SPDX-License-Identifier: MIT */
/*
 * Ports and messages.
 *
 * A port is a bounded FIFO of messages owned by one process; only that
 * process receives from it, anyone who knows the handle may send.  Every
 * message is stamped by the kernel with the sender's pid (0: the kernel),
 * so receivers can trust who sent it.
 *
 * A call is a send that carries a reply token (index + generation of a
 * reply slot) and blocks the caller until sys_reply(token) answers.  The
 * answer goes straight to the waiting caller, never through a queue, so a
 * pager's reply is never stuck behind ordinary traffic (the seed's rule).
 * The slot knows which process received the request: only that process
 * may reply, once.  If the port dies with the request queued, or the
 * server dies holding it, the caller gets ERR_DEAD.  The kernel itself
 * makes calls (page-in requests) with a completion callback instead of a
 * blocked thread.
 *
 * With MSG_PAGE a message carries a 4 KiB page: the kernel copies it into
 * a frame of its own at send and out to the receiver's buffer at receive.
 */
#ifndef PORT_H
#define PORT_H

#include <ferry/msg.h>
#include <stdint.h>

#include "../arch/arch.h"

#define PORT_MAX	256
#define REPLY_SLOTS	256

struct proc;

struct kmsg {
	struct msg m;
	int npages;			/* frames below, when MSG_PAGE */
	bool borrowed;			/* frames belong to someone else: never freed here */
	paddr_t page[MSG_MAX_PAGES];
};

/*
 * A kernel call's completion.  With err == 0 it gets the reply (valid only
 * during the call; pages it keeps it must take out of reply->page[] and
 * zero reply->npages) and returns 0 to accept it, or an error to refuse it
 * (the replier gets that error, the call stays open).  With err != 0 (the
 * server died, the call was cancelled) reply is NULL and the return value
 * is ignored.
 */
typedef long (*ipc_done_fn)(void *ctx, struct kmsg *reply, long err);

void ipc_init(void);
long port_create(struct proc *owner, long queue_len);
long port_destroy(struct proc *p, uint64_t port);
long port_publish(struct proc *p, const char *name, uint64_t port);
long port_lookup(const char *name);
bool port_owned_by(uint64_t port, const struct proc *p);

/* System-call halves: user pointers are checked inside. */
long ipc_send(struct proc *p, uint64_t port, uint64_t umsg);
long ipc_recv(struct proc *p, uint64_t port, uint64_t umsg, int64_t timeout_ns);
long ipc_call(struct proc *p, uint64_t port, uint64_t ureq, uint64_t urep, int64_t timeout_ns);
/* => 0, ERR_TIMEOUT (the caller had given up: the answer is late and
 * dropped, and counted in ipc_late_replies()), ERR_BADHANDLE, ... */
long ipc_reply(struct proc *p, uint64_t token, uint64_t umsg);

/* Answers that came after their caller gave up (a timed-out sys_call, a
 * page request failed by overtime): how many, and the last replier. */
struct ipc_late {
	uint64_t count;
	uint64_t last_pid;
	char last_name[16];
};
const struct ipc_late *ipc_late_replies(void);

/* Kernel as sender: a notification (no reply), or a call answered through done(). */
long ipc_kernel_send(uint64_t port, const struct msg *m);
long ipc_kernel_call(uint64_t port, const struct msg *m, ipc_done_fn done, void *ctx);
/* The same, lending `frames` as the message's pages (copied out at receive). */
long ipc_kernel_call_pages(uint64_t port, const struct msg *m, const paddr_t *frames, int n,
			   ipc_done_fn done, void *ctx);
/* The same, with the answer's pages copied straight into `frames` (the
 * caller's, up to n): an answer then needs no memory of its own. */
long ipc_kernel_call_into(uint64_t port, const struct msg *m, const paddr_t *frames, int n,
			  ipc_done_fn done, void *ctx);
/* Abandons a kernel call: a later reply finds a stale token, and if the
 * request is still queued its borrowed pages are detached from it. */
void ipc_kernel_cancel(uint64_t token);
struct proc *port_owner(uint64_t port);
/* The fill modes the port's owner serves as the pager of mapped objects
 * (sys_pager_modes; all of them until it says otherwise).  Page requests
 * to it are downgraded with fill_mode_served(). */
long port_set_pager_modes(struct proc *p, uint64_t port, uint64_t modes);
uint32_t port_pager_modes(uint64_t port);
/* When the server received an open call (cycle counter), or 0. */
uint64_t ipc_call_received_cycles(uint64_t token);
void kmsg_free(struct kmsg *km);

uint64_t port_count(void);

#endif
