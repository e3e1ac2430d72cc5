// SPDX-License-Identifier: MIT
#include "port.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <string.h>

#include "../handle.h"
#include "../mm/heap.h"
#include "../mm/pageout.h"
#include "../mm/pmm.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "../uaccess.h"

struct port {
	uint32_t gen;
	bool live;
	struct proc *owner;
	struct kmsg *queue;
	uint32_t cap, head, count;
	struct wait_queue receivers;
	char name[PORT_NAME_MAX];	/* "" unless published */
	uint32_t pager_modes;		/* FILL_MODE_BIT()s it serves as a region pager */
};

struct reply_slot {
	uint32_t gen;
	bool used;
	struct thread *caller;		/* blocked in ipc_call, or NULL */
	ipc_done_fn done;		/* kernel caller's completion */
	void *ctx;
	struct proc *server;		/* set when received: the only replier */
	uint64_t port;
	uint64_t received_cycles;	/* when the server took the request */
	const paddr_t *answer_frames;	/* kernel calls: where the answer's pages go */
	int answer_nframes;
	/* The call its caller last gave up on while a server held it: that
	 * server's answer, when it comes, is late, not forged. */
	uint32_t abandoned_gen;
	struct proc *abandoned_server;
};

static struct port ports[PORT_MAX];
static struct reply_slot slots[REPLY_SLOTS];
static uint64_t live_ports;
static struct ipc_late late;

void ipc_init(void)
{
	for (int i = 0; i < PORT_MAX; i++) {
		ports[i].gen = 1;
		wait_queue_init(&ports[i].receivers);
	}
	for (int i = 0; i < REPLY_SLOTS; i++)
		slots[i].gen = 1;
}

uint64_t port_count(void)
{
	return live_ports;
}

static uint64_t port_handle(const struct port *pt)
{
	return handle_make((uint32_t)(pt - ports), pt->gen);
}

static struct port *port_get(uint64_t h)
{
	uint32_t i = handle_index(h);

	if (i >= PORT_MAX || !ports[i].live || ports[i].gen != handle_gen(h))
		return NULL;
	return &ports[i];
}

/*
 * A port a user process may send to: live, and its owner not dying.  A
 * dying owner receives nothing more (its threads leave at their next
 * kernel exit, which on another CPU may be a moment away): a message for
 * it is not delivered, and the sender learns so (ERR_BADHANDLE) rather
 * than that a server died holding its call (ERR_DEAD: it may have been
 * done).  Looked up again after anything that may sleep.
 */
static struct port *user_port(uint64_t h)
{
	struct port *pt = port_get(h);

	return pt && !proc_is_dying(pt->owner) ? pt : NULL;
}

bool port_owned_by(uint64_t port, const struct proc *p)
{
	struct port *pt = port_get(port);

	return pt && pt->owner == p;
}

/* A kmsg's bytes that mean something: the pages it has, not all 32 slots. */
static void kmsg_copy(struct kmsg *dst, const struct kmsg *src)
{
	memcpy(dst, src, offsetof(struct kmsg, page) + (size_t)src->npages * sizeof(src->page[0]));
}

void kmsg_free(struct kmsg *km)
{
	if (!km->borrowed)
		for (int i = 0; i < km->npages; i++)
			pmm_free(km->page[i]);
	km->npages = 0;
}

struct proc *port_owner(uint64_t port)
{
	struct port *pt = port_get(port);

	return pt ? pt->owner : NULL;
}

long port_set_pager_modes(struct proc *p, uint64_t port, uint64_t modes)
{
	struct port *pt = port_get(port);

	if (!pt || pt->owner != p)
		return ERR_BADHANDLE;
	if (!(modes & FILL_MODE_BIT(FILL_COPY)) || (modes & ~(uint64_t)FILL_ALL_MODES))
		return ERR_INVAL;	/* copy is the mode every pager must serve */
	pt->pager_modes = (uint32_t)modes;
	return 0;
}

uint32_t port_pager_modes(uint64_t port)
{
	struct port *pt = port_get(port);

	return pt ? pt->pager_modes : FILL_ALL_MODES;
}

/* --- reply slots --- */

static struct reply_slot *slot_alloc(uint64_t port, uint64_t *token)
{
	for (int i = 0; i < REPLY_SLOTS; i++) {
		struct reply_slot *s = &slots[i];

		if (s->used)
			continue;
		s->used = true;
		s->caller = NULL;
		s->done = NULL;
		s->server = NULL;
		s->port = port;
		s->received_cycles = 0;
		s->answer_frames = NULL;
		s->answer_nframes = 0;
		*token = handle_make((uint32_t)i, s->gen);
		return s;
	}
	return NULL;
}

static struct reply_slot *slot_get(uint64_t token)
{
	uint32_t i = handle_index(token);

	if (token == 0 || i >= REPLY_SLOTS || !slots[i].used || slots[i].gen != handle_gen(token))
		return NULL;
	return &slots[i];
}

static void slot_release(struct reply_slot *s)
{
	s->used = false;
	s->gen = handle_next_gen(s->gen);
}

/* The caller stopped waiting (timeout, kill, overtime): if a server holds
 * the call, its answer will come late; remember whose it will be. */
static void slot_abandon(struct reply_slot *s)
{
	s->abandoned_gen = s->server ? s->gen : 0;
	s->abandoned_server = s->server;
	slot_release(s);
}

/* An answer to a call its caller gave up on: counted, and the replier told
 * ERR_TIMEOUT, once; anything else is ERR_BADHANDLE. */
static long late_reply(struct proc *p, uint64_t token)
{
	uint32_t i = handle_index(token);
	struct reply_slot *s = &slots[i];

	if (token == 0 || i >= REPLY_SLOTS || s->abandoned_gen == 0 ||
	    s->abandoned_gen != handle_gen(token) || s->abandoned_server != p)
		return ERR_BADHANDLE;
	s->abandoned_gen = 0;
	late.count++;
	late.last_pid = p->pid;
	strlcpy(late.last_name, p->name, sizeof(late.last_name));
	return ERR_TIMEOUT;
}

const struct ipc_late *ipc_late_replies(void)
{
	return &late;
}

/*
 * Ends a call: hands `reply` (or an error) to the waiting thread or the
 * kernel's callback, and frees the slot.  The reply, if any, now belongs
 * to the receiver of it.
 */
static long slot_complete(struct reply_slot *s, struct kmsg *reply, long err)
{
	struct thread *caller = s->caller;
	ipc_done_fn done = s->done;
	void *ctx = s->ctx;
	long refused;

	if (done && !err) {
		refused = done(ctx, reply, 0);	/* may refuse: the call stays open */
		if (refused)
			return refused;
		slot_release(s);
		return 0;
	}
	slot_release(s);
	if (caller) {
		caller->ipc = reply;
		thread_wake(caller, err);
	} else if (done) {
		done(ctx, NULL, err);
	} else if (reply) {
		kmsg_free(reply);
		kfree(reply);
	}
	return 0;
}

/* --- ports --- */

long port_create(struct proc *owner, long queue_len)
{
	if (queue_len < 1 || queue_len > PORT_QUEUE_MAX)
		return ERR_INVAL;
	for (int i = 0; i < PORT_MAX; i++) {
		struct port *pt = &ports[i];

		if (pt->live)
			continue;
		pt->queue = kzalloc((size_t)queue_len * sizeof(struct kmsg));
		if (!pt->queue)
			return ERR_NOMEM;
		pt->live = true;
		pt->owner = owner;
		pt->cap = (uint32_t)queue_len;
		pt->head = pt->count = 0;
		pt->name[0] = '\0';
		pt->pager_modes = FILL_ALL_MODES;
		live_ports++;
		return (long)port_handle(pt);
	}
	return ERR_NOMEM;
}

static void port_kill(struct port *pt)
{
	while (pt->count) {
		struct kmsg *km = &pt->queue[pt->head];
		struct reply_slot *s = slot_get(km->m.reply);

		pt->head = (pt->head + 1) % pt->cap;
		pt->count--;
		kmsg_free(km);
		if (s)
			slot_complete(s, NULL, ERR_DEAD);
	}
	/* Calls already received by the owner die with it. */
	for (int i = 0; i < REPLY_SLOTS; i++)
		if (slots[i].used && slots[i].port == port_handle(pt))
			slot_complete(&slots[i], NULL, ERR_DEAD);
	pt->live = false;
	pt->gen = handle_next_gen(pt->gen);
	wait_queue_wake_all(&pt->receivers, ERR_BADHANDLE);
	kfree(pt->queue);
	pt->queue = NULL;
	live_ports--;
}

long port_destroy(struct proc *p, uint64_t port)
{
	struct port *pt = port_get(port);

	if (!pt)
		return ERR_BADHANDLE;
	if (pt->owner != p)
		return ERR_PERM;
	port_kill(pt);
	return 0;
}

void port_release_all(struct proc *p)
{
	for (int i = 0; i < PORT_MAX; i++)
		if (ports[i].live && ports[i].owner == p)
			port_kill(&ports[i]);
	/* Requests p received but never answered: their callers must not hang. */
	for (int i = 0; i < REPLY_SLOTS; i++)
		if (slots[i].used && slots[i].server == p)
			slot_complete(&slots[i], NULL, ERR_DEAD);
}

long port_publish(struct proc *p, const char *name, uint64_t port)
{
	struct port *pt = port_get(port);

	if (!pt)
		return ERR_BADHANDLE;
	if (pt->owner != p)
		return ERR_PERM;
	if (!name[0])
		return ERR_INVAL;
	if (port_lookup(name) > 0)
		return ERR_EXIST;
	strlcpy(pt->name, name, sizeof(pt->name));
	return 0;
}

/* A dying owner's name is gone already: a client looks for its successor. */
long port_lookup(const char *name)
{
	for (int i = 0; i < PORT_MAX; i++)
		if (ports[i].live && ports[i].name[0] && strcmp(ports[i].name, name) == 0 &&
		    !proc_is_dying(ports[i].owner))
			return (long)port_handle(&ports[i]);
	return ERR_NOENT;
}

/* => the message now belongs to the port (or to nobody, on error). */
static long enqueue(struct port *pt, struct kmsg *km)
{
	struct thread *rx;

	if (pt->count == pt->cap)
		return ERR_FULL;
	kmsg_copy(&pt->queue[(pt->head + pt->count) % pt->cap], km);
	pt->count++;
	rx = wait_queue_first(&pt->receivers);
	if (rx)
		thread_wake(rx, 0);
	return 0;
}

/* Reads a message (and its page) from user memory into km; stamps nothing. */
/*
 * Reads a message and its pages from user memory.  The pages go into
 * `dest` frames when the receiver provided them (a kernel call that owns
 * the frames its answer fills: no allocation, no second copy), else into
 * fresh kernel frames.
 */
static long fetch_user_msg_into(struct proc *p, uint64_t umsg, struct kmsg *km,
				const paddr_t *dest, int ndest)
{
	if (copy_from_user(p, &km->m, umsg, sizeof(km->m)))
		return ERR_FAULT;
	km->npages = 0;
	km->borrowed = false;
	if (km->m.flags & ~(MSG_PAGE | (0xFFu << MSG_NPAGES_SHIFT)))
		return ERR_INVAL;
	if (!(km->m.flags & MSG_PAGE))
		return (km->m.flags & (0xFFu << MSG_NPAGES_SHIFT)) ? ERR_INVAL : 0;
	if (MSG_NPAGES(km->m.flags) > MSG_MAX_PAGES)
		return ERR_INVAL;
	if (dest && MSG_NPAGES(km->m.flags) > (uint32_t)ndest)
		return ERR_INVAL;	/* more pages than the caller asked for */
	km->borrowed = dest != NULL;
	for (uint32_t i = 0; i < MSG_NPAGES(km->m.flags); i++) {
		paddr_t pa = dest ? dest[i] : pmm_alloc(FRAME_KERNEL);

		if (!pa) {
			kmsg_free(km);
			pageout_check_pressure();
			return ERR_NOMEM;
		}
		km->page[km->npages++] = pa;
	}
	/* One walk of the source for all its pages, checked before a byte is
	 * copied. */
	if (km->npages && copy_from_user_frames(p, km->page, (uint64_t)km->m.page,
						(size_t)km->npages * MSG_PAGE_SIZE)) {
		kmsg_free(km);
		return ERR_FAULT;
	}
	return 0;
}

static long fetch_user_msg(struct proc *p, uint64_t umsg, struct kmsg *km)
{
	return fetch_user_msg_into(p, umsg, km, NULL, 0);
}

long ipc_send(struct proc *p, uint64_t port, uint64_t umsg)
{
	struct port *pt = user_port(port);
	struct kmsg km;
	long err;

	if (!pt)
		return ERR_BADHANDLE;
	err = fetch_user_msg(p, umsg, &km);
	if (err)
		return err;
	pt = user_port(port);	/* the fetch may have waited for a page */
	if (!pt) {
		kmsg_free(&km);
		return ERR_BADHANDLE;
	}
	km.m.sender = p->pid;
	km.m.reply = 0;
	err = enqueue(pt, &km);
	if (err)
		kmsg_free(&km);
	return err;
}

/*
 * Where a received message goes in user memory: the msg struct and, when
 * the receiver supplied one, its page buffer.  Checked before anything is
 * dequeued, so a bad buffer loses no message.
 */
struct user_dest {
	uint64_t umsg;
	uint64_t upage;
	uint32_t capacity;	/* pages the receiver's buffer holds */
};

/*
 * The receiver states its buffer as it would send one: page +
 * MSG_WITH_PAGES(n).  Only the message struct is checked here; the page
 * buffer is checked when a message with pages actually arrives, for the
 * pages it brings (check_user_pages), so an idle server's big buffer is
 * not walked on every receive.
 */
static long check_user_dest(struct proc *p, uint64_t umsg, struct user_dest *d)
{
	struct msg m;

	if (copy_from_user_writable(p, &m, umsg, sizeof(m)))
		return ERR_FAULT;
	d->umsg = umsg;
	d->upage = (uint64_t)m.page;
	d->capacity = 0;
	if (d->upage) {
		d->capacity = (m.flags & MSG_PAGE) ? MSG_NPAGES(m.flags) : 1;
		if (d->capacity > MSG_MAX_PAGES)
			return ERR_INVAL;
	}
	return 0;
}

/* => 0 if the receiver's buffer can take the n pages a message brings. */
static long check_user_pages(struct proc *p, const struct user_dest *d, int n)
{
	if (n == 0 || !d->upage || (uint32_t)n > d->capacity)
		return 0;	/* nothing to copy, or dropped as truncated */
	return user_range_check(p, d->upage, (size_t)n * MSG_PAGE_SIZE, 1) ? ERR_FAULT : 0;
}

/* => cannot fail: check_user_dest ran and nothing blocked since. */
static void deliver(struct proc *p, struct kmsg *km, const struct user_dest *d)
{
	struct msg m = km->m;

	m.page = (void *)d->upage;
	if (km->npages) {
		if (d->upage && (uint32_t)km->npages <= d->capacity)
			for (int i = 0; i < km->npages; i++)
				copy_to_user(p, d->upage + (uint64_t)i * MSG_PAGE_SIZE,
					     phys_to_virt(km->page[i]), MSG_PAGE_SIZE);
		else
			m.flags = (m.flags & ~(MSG_PAGE | (0xFFu << MSG_NPAGES_SHIFT))) |
				  MSG_TRUNCATED;
	} else {
		m.flags &= ~(MSG_PAGE | (0xFFu << MSG_NPAGES_SHIFT));
	}
	copy_to_user(p, d->umsg, &m, sizeof(m));
	kmsg_free(km);
}

long ipc_recv(struct proc *p, uint64_t port, uint64_t umsg, int64_t timeout_ns)
{
	struct user_dest dest;
	long err;

	for (;;) {
		struct port *pt = port_get(port);
		struct kmsg km;
		struct reply_slot *s;

		if (!pt)
			return ERR_BADHANDLE;
		if (pt->owner != p)
			return ERR_PERM;
		err = check_user_dest(p, umsg, &dest);
		if (err)
			return err;
		if (pt->count == 0) {
			if (timeout_ns == 0)
				return ERR_TIMEOUT;
			err = thread_block(&pt->receivers, THREAD_BLOCKED_RECV, port, timeout_ns);
			if (err)
				return err;
			continue;	/* recheck: the port may have died, or lost the message */
		}
		if (check_user_pages(p, &dest, pt->queue[pt->head].npages))
			return ERR_FAULT;	/* the message stays queued */
		kmsg_copy(&km, &pt->queue[pt->head]);
		pt->head = (pt->head + 1) % pt->cap;
		pt->count--;
		s = slot_get(km.m.reply);
		if (s) {
			s->server = p;
			s->received_cycles = arch_cycles();
		}
		else
			km.m.reply = 0;	/* the caller gave up: nobody to answer */
		deliver(p, &km, &dest);
		return 0;
	}
}

long ipc_call(struct proc *p, uint64_t port, uint64_t ureq, uint64_t urep, int64_t timeout_ns)
{
	struct port *pt = user_port(port);
	struct user_dest dest;
	struct reply_slot *s;
	struct kmsg km, *reply;
	uint64_t token;
	long err;

	if (!pt)
		return ERR_BADHANDLE;
	err = check_user_dest(p, urep, &dest);
	if (err)
		return err;
	err = fetch_user_msg(p, ureq, &km);
	if (err)
		return err;
	pt = user_port(port);	/* the checks may have waited for a page */
	if (!pt) {
		kmsg_free(&km);
		return ERR_BADHANDLE;
	}
	s = slot_alloc(port, &token);
	if (!s) {
		kmsg_free(&km);
		return ERR_BUSY;
	}
	s->caller = current_thread();
	km.m.sender = p->pid;
	km.m.reply = token;
	this_cpu()->waking_for_call = true;
	err = enqueue(pt, &km);
	this_cpu()->waking_for_call = false;
	if (err) {
		kmsg_free(&km);
		slot_release(s);
		return err;
	}
	current_thread()->ipc = NULL;
	err = thread_block(NULL, THREAD_BLOCKED_CALL, port, timeout_ns);
	reply = current_thread()->ipc;
	current_thread()->ipc = NULL;
	if (err) {
		/* Timed out or killed: the slot may still be live; make the token stale. */
		if (slot_get(token))
			slot_abandon(slot_get(token));
		if (reply) {
			kmsg_free(reply);
			kfree(reply);
		}
		return err;
	}
	/* The destination was checked before blocking, but the process may
	 * have unmapped it meanwhile: check again. */
	err = check_user_dest(p, urep, &dest);
	if (!err)
		err = check_user_pages(p, &dest, reply->npages);
	if (!err)
		deliver(p, reply, &dest);
	kmsg_free(reply);
	kfree(reply);
	return err;
}

long ipc_reply(struct proc *p, uint64_t token, uint64_t umsg)
{
	struct reply_slot *s = slot_get(token);
	struct kmsg on_stack, *km;
	long err;

	if (!s)
		return late_reply(p, token);	/* late, stale, forged, or already answered */
	if (s->server != p)
		return ERR_BADHANDLE;	/* foreign */
	/* A blocked caller takes the reply away with it; a kernel caller
	 * consumes it before we return, so it can live on this stack. */
	km = s->caller ? kmalloc(sizeof(*km)) : &on_stack;
	if (!km)
		return ERR_NOMEM;
	err = fetch_user_msg_into(p, umsg, km, s->answer_frames, s->answer_nframes);
	if (!err) {
		km->m.sender = p->pid;
		km->m.reply = 0;
		err = slot_complete(s, km, 0);
		if (!err && km != &on_stack)
			return 0;	/* handed to the caller */
	}
	kmsg_free(km);
	if (km != &on_stack)
		kfree(km);
	return err;
}

long ipc_kernel_send(uint64_t port, const struct msg *m)
{
	struct port *pt = port_get(port);
	struct kmsg km = { .m = *m };

	if (!pt)
		return ERR_BADHANDLE;
	km.m.sender = 0;
	km.m.reply = 0;
	km.m.flags = 0;
	return enqueue(pt, &km);
}

long ipc_kernel_call(uint64_t port, const struct msg *m, ipc_done_fn done, void *ctx)
{
	return ipc_kernel_call_pages(port, m, NULL, 0, done, ctx);
}

long ipc_kernel_call_into(uint64_t port, const struct msg *m, const paddr_t *frames, int n,
			  ipc_done_fn done, void *ctx)
{
	long token = ipc_kernel_call(port, m, done, ctx);
	struct reply_slot *s = token > 0 ? slot_get((uint64_t)token) : NULL;

	if (s) {
		s->answer_frames = frames;
		s->answer_nframes = n;
	}
	return token;
}

long ipc_kernel_call_pages(uint64_t port, const struct msg *m, const paddr_t *frames, int n,
			   ipc_done_fn done, void *ctx)
{
	struct port *pt = port_get(port);
	struct kmsg km;		/* only [0, n) of its pages: kmsg_copy() */
	struct reply_slot *s;
	uint64_t token;
	long err;

	if (!pt)
		return ERR_BADHANDLE;
	km.m = *m;
	km.npages = n;
	km.borrowed = true;
	for (int i = 0; i < n; i++)
		km.page[i] = frames[i];
	s = slot_alloc(port, &token);
	if (!s)
		return ERR_BUSY;
	s->done = done;
	s->ctx = ctx;
	km.m.sender = 0;
	km.m.reply = token;
	km.m.flags = n ? MSG_WITH_PAGES(n) : 0;
	err = enqueue(pt, &km);
	if (err) {
		slot_release(s);
		return err;
	}
	return (long)token;
}

uint64_t ipc_call_received_cycles(uint64_t token)
{
	struct reply_slot *s = slot_get(token);

	return s ? s->received_cycles : 0;
}

void ipc_kernel_cancel(uint64_t token)
{
	struct reply_slot *s = slot_get(token);
	struct port *pt;

	if (!s || s->caller)
		return;
	pt = port_get(s->port);
	for (uint32_t i = 0; pt && i < pt->count; i++) {
		struct kmsg *km = &pt->queue[(pt->head + i) % pt->cap];

		if (km->m.reply == token && km->borrowed)
			km->npages = 0;	/* its frames go back to their owner now */
	}
	slot_abandon(s);
}
