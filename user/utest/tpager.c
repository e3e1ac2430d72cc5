// SPDX-License-Identifier: MIT
/*
 * What the VM cases share: fault-path and statistics helpers, a test
 * pager that the case process runs itself, and vm_client, the child that
 * maps the test pager's pages and touches them.
 *
 * The pager side stays in the case process so that a case can answer
 * late, twice, with the wrong grant, or never; cases whose pager must die
 * run one as a helper process instead (pager.c).
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <proto/swapd.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#include "utest.h"

#define CLIENT_STACK	16384

long vm_faultpath(long mode)
{
	long prev = CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL));

	CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, NULL));
	return prev;
}

void vm_stats(struct fault_stats st[FILL_NMODES])
{
	CHECK_OK(sys_vm_ctl(VM_CTL_STATS, 0, st));
}

long vm_page_state(const void *addr)
{
	return sys_vm_ctl(VM_CTL_PAGE_STATE, (long)addr, NULL);
}

long vm_need_swap(void)
{
	long port = sys_port_lookup(SWAPD_PORT_NAME);

	if (port < 0)
		printf("utest: no swap provider: start swapd first\n");
	CHECK(port > 0);
	return port;
}

void vm_swapd_store(struct msg *rep)
{
	struct msg req = { .op = SWAPD_STORE };

	*rep = (struct msg){ 0 };
	CHECK_OK(sys_call(vm_need_swap(), &req, rep, UTEST_WAIT_NS));
	CHECK_EQ(rep->op, SWAPD_STORE);
}

/* Grants and requests end a moment after the answer that ends them wakes us. */
void vm_check_idle(const struct sys_stats *before)
{
	struct sys_stats now;
	long start = sys_clock_ns();

	for (;;) {
		CHECK_OK(sys_stats(&now));
		if ((now.grants_live == before->grants_live &&
		     now.requests_live == before->requests_live) ||
		    sys_clock_ns() - start > UTEST_WAIT_NS)
			break;
		sys_sleep(MSEC_NS);
	}
	CHECK_EQ(now.grants_live, before->grants_live);
	CHECK_EQ(now.requests_live, before->requests_live);
}

uint32_t tpager_seed(uint64_t object, uint64_t key)
{
	return (uint32_t)(object * 0x10000 + key / UTEST_PAGE);
}

void tpager_open(struct tpager *tp)
{
	tp->port = CHECK_OK(sys_port_create(16));
	tp->buf = (uint8_t *)CHECK_OK(sys_mem_map(NULL, PAGER_BUF_SIZE, PROT_READ | PROT_WRITE));
}

void tpager_close(struct tpager *tp)
{
	CHECK_OK(sys_port_destroy(tp->port));
	CHECK_OK(sys_mem_unmap(tp->buf, PAGER_BUF_SIZE));
}

long tpager_client(long port, uint64_t object, int first, int npages, const char *action)
{
	return utest_spawn("vm_client", "%ld %llu %d %d %s", port, (unsigned long long)object,
			   first, npages, action);
}

void tpager_recv(struct tpager *tp, struct pager_request *rq, long timeout_ns)
{
	struct msg m;

	pager_recv_prepare(&m, tp->buf);
	CHECK_OK(sys_recv(tp->port, &m, timeout_ns));
	CHECK_EQ(m.sender, 0);
	CHECK_OK(pager_request_decode(&m, rq));
}

void tpager_fill(struct tpager *tp, const struct pager_request *rq, int k)
{
	uint8_t *dst = rq->mode == FILL_COPY ? tp->buf : rq->window;
	int i;

	CHECK(rq->op == PAGER_PAGE_IN && rq->mode != FILL_GRANT_DMA);
	for (i = 0; i < k; i++)
		utest_fill(dst + (size_t)i * UTEST_PAGE,
			   tpager_seed(rq->object, rq->key + (uint64_t)i * UTEST_PAGE));
}

/* Page-outs are taken and forgotten: the cases check the writer's side. */
long tpager_answer(struct tpager *tp, const struct pager_request *rq)
{
	if (rq->op == PAGER_PAGE_IN && rq->mode != FILL_GRANT_DMA)
		tpager_fill(tp, rq, rq->npages);
	return pager_answer_ok(rq, rq->npages, tp->buf);
}

void tpager_serve_until_exit(struct tpager *tp, long child, long want_status)
{
	struct pager_request rq;
	struct msg m;
	long start = sys_clock_ns(), status = 0, ret;

	while (sys_wait(child, &status, 0) == ERR_TIMEOUT) {
		CHECK(sys_clock_ns() - start < 2 * UTEST_WAIT_NS);
		pager_recv_prepare(&m, tp->buf);
		ret = sys_recv(tp->port, &m, 10 * MSEC_NS);
		if (ret == ERR_TIMEOUT)
			continue;
		CHECK_OK(ret);
		CHECK_EQ(m.sender, 0);
		CHECK_OK(pager_request_decode(&m, &rq));
		CHECK_OK(tpager_answer(tp, &rq));
	}
	CHECK_EQ(status, want_status);
}

/* --- the client --- */

struct client {
	uint8_t *base;
	long port;
	uint64_t object;
	int first, npages;
	volatile int touched;	/* the faulting thread got past its read */
};

static uint32_t client_seed(const struct client *c, int i)
{
	return tpager_seed(c->object, (uint64_t)(c->first + i) * UTEST_PAGE);
}

static uint8_t *client_page(const struct client *c, int i)
{
	return c->base + (size_t)i * UTEST_PAGE;
}

static int client_read(struct client *c)
{
	int i, bad = 0;

	for (i = 0; i < c->npages; i++) {
		if (!utest_filled(client_page(c, i), client_seed(c, i))) {
			printf("utest: vm_client: page %d of object %llu is wrong\n", i,
			       (unsigned long long)c->object);
			bad++;
		}
	}
	return bad ? 3 : 0;
}

static int client_zero(struct client *c)
{
	const uint64_t *w = (const uint64_t *)c->base;
	size_t i, n = (size_t)c->npages * UTEST_PAGE / sizeof(*w);

	for (i = 0; i < n; i++) {
		if (w[i]) {
			printf("utest: vm_client: word %zu is %#llx, want 0\n", i,
			       (unsigned long long)w[i]);
			return 3;
		}
	}
	return 0;
}

/* The page-out must fail (the pager misbehaves) and lose nothing. */
static int client_dirty(struct client *c)
{
	uint8_t *p = client_page(c, 0);
	long evicted;

	CHECK(utest_filled(p, client_seed(c, 0)));
	utest_fill(p, client_seed(c, 0) + 1);
	evicted = sys_vm_ctl(VM_CTL_EVICT, UTEST_PAGE, p);
	CHECK_EQ(vm_page_state(p), PAGE_RESIDENT);
	CHECK(utest_filled(p, client_seed(c, 0) + 1));
	/* The page did not leave: "pages evicted" is none, or an error. */
	if (evicted > 0)
		printf("utest: vm_client: VM_CTL_EVICT says %ld evicted; the page stayed\n",
		       evicted);
	CHECK(evicted <= 0);
	return 0;
}

static uint64_t page_hash(const uint8_t *p)
{
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < UTEST_PAGE; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/*
 * Page 0, hashed as it arrives and again 50 ms later: nothing else may
 * write it (smp.c: a holder thread whose window translation outlived the
 * grant would).  The CPU stays busy meanwhile, so the writer keeps its own.
 */
static int client_stable(struct client *c)
{
	uint64_t first = page_hash(client_page(c, 0)), second;
	long start = sys_clock_ns();

	while (sys_clock_ns() - start < 50 * MSEC_NS)
		;
	second = page_hash(client_page(c, 0));
	if (first != second) {
		printf("utest: vm_client: page 0 changed under us: hash %#llx, then %#llx\n",
		       (unsigned long long)first, (unsigned long long)second);
		return 3;
	}
	return 0;
}

static void client_touch(void *arg)
{
	struct client *c = arg;

	(void)*(volatile uint8_t *)c->base;
	c->touched = 1;	/* only if the kernel mapped a page where there is no region */
}

static bool one_thread_left(void)
{
	struct proc_info self;

	CHECK_OK(proc_find(proc_pid(), &self));
	return self.nthreads == 1;
}

/*
 * The faulting thread must not find a page where the region was: after
 * the answer it faults again, on nothing, and dies; this thread lives.
 */
static int client_unmap(struct client *c)
{
	static char stack[CLIENT_STACK] __attribute__((aligned(16)));
	struct msg note = { .op = TPAGER_UNMAPPED };
	long start = sys_clock_ns();

	CHECK_OK(thread_start(client_touch, c, stack, sizeof(stack)));
	while (vm_page_state(c->base) != PAGE_INFLIGHT) {
		CHECK(sys_clock_ns() - start < UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
	CHECK_OK(sys_mem_unmap(c->base, (long)c->npages * UTEST_PAGE));
	CHECK_OK(sys_send(c->port, &note));
	while (!one_thread_left()) {
		CHECK(sys_clock_ns() - start < 2 * UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
	CHECK_EQ(c->touched, 0);
	return 0;
}

static const struct client_action {
	const char *name;
	int (*run)(struct client *c);
} client_actions[] = {
	{ "read", client_read },
	{ "zero", client_zero },
	{ "dirty", client_dirty },
	{ "unmap", client_unmap },
	{ "stable", client_stable },
};

/* utest vm_client PORT OBJECT FIRST NPAGES ACTION: see tpager_client(). */
UTEST_HELPER(vm_client)
{
	static struct client c;
	size_t i;

	CHECK(argc > 6);
	c.port = utest_arg(argc, argv, 2);
	c.object = (uint64_t)utest_arg(argc, argv, 3);
	c.first = (int)utest_arg(argc, argv, 4);
	c.npages = (int)utest_arg(argc, argv, 5);
	c.base = (uint8_t *)CHECK_OK(sys_mem_map_pager(c.port, c.object,
						       (long)c.first * UTEST_PAGE,
						       (long)c.npages * UTEST_PAGE,
						       PROT_READ | PROT_WRITE));
	for (i = 0; i < sizeof(client_actions) / sizeof(client_actions[0]); i++) {
		if (!strcmp(argv[6], client_actions[i].name))
			return client_actions[i].run(&c);
	}
	printf("utest: vm_client: no action %s\n", argv[6]);
	return 2;
}
