// SPDX-License-Identifier: MIT
/*
 * bench: microbenchmarks in TSC cycles.  Every iteration is timed on its
 * own, so the report can give the median and the 99th percentile, which
 * say more than a mean about a path with occasional slow cases (a timer
 * interrupt, a TLB refill).  The two rdtsc reads are part of each sample.
 *
 *   bench [ITERS]          run everything, ITERS samples each
 *   bench faults [ROUNDS] [PAGES]   the fault paths, side by side (faults.c)
 *   bench costcheck        the cost model's DMA announcement (costcheck.c)
 *   bench server PARENT    (spawned by bench) the far end of ipc_call
 *
 * Output lines: "bench NAME median=N p99=N mean=N iters=N".
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <thread.h>

#include "bench.h"

#define DEFAULT_ITERS	20000
#define MAX_ITERS	1000000
#define WARMUP		100
#define IPC_WAIT_NS	(5 * SEC_NS)

enum { OP_ECHO = MSG_OP_USER, OP_QUIT };

struct bench {
	const char *name;
	/* Fills samples[0..iters); returns 0 or a negative enum ferry_err. */
	long (*run)(uint64_t *samples, long iters);
};

static long bench_null(uint64_t *samples, long iters)
{
	uint64_t t0;
	long i;

	for (i = -WARMUP; i < iters; i++) {
		t0 = rdtsc();
		sys_null();
		if (i >= 0)
			samples[i] = rdtsc() - t0;
	}
	return 0;
}

static void server_name(char name[PORT_NAME_MAX], long parent)
{
	snprintf(name, PORT_NAME_MAX, "bench.%ld", parent);
}

/* bench server PARENT: answers OP_ECHO with arg[0] + 1 until OP_QUIT. */
static int bench_server(const char *parent)
{
	char name[PORT_NAME_MAX];
	struct msg req = { 0 }, rep = { 0 };
	uint64_t pid;
	long port, ret;

	if (str_to_u64(parent, 10, &pid, NULL) < 0)
		return 2;
	server_name(name, (long)pid);
	port = ipc_publish(name, 4);
	if (port < 0)
		return 1;
	do {
		ret = sys_recv(port, &req, -1);
		if (ret < 0)
			return 1;
		rep = (struct msg){ .op = req.op, .arg = { req.arg[0] + 1 } };
		sys_reply(req.reply, &rep);
	} while (req.op != OP_QUIT);
	return 0;
}

/* One round trip: call, the server's recv and reply, our wake-up. */
static long ipc_round_trips(long port, uint64_t *samples, long iters)
{
	struct msg req = { .op = OP_ECHO }, rep = { 0 };
	uint64_t t0;
	long i, ret;

	for (i = -WARMUP; i < iters; i++) {
		req.arg[0] = (uint64_t)i;
		t0 = rdtsc();
		ret = sys_call(port, &req, &rep, IPC_WAIT_NS);
		if (ret < 0)
			return ret;
		if (i >= 0)
			samples[i] = rdtsc() - t0;
	}
	return 0;
}

static long bench_ipc(uint64_t *samples, long iters)
{
	char name[PORT_NAME_MAX], args[48];
	struct msg quit = { .op = OP_QUIT }, rep = { 0 };
	long server, port, ret, status;

	snprintf(args, sizeof(args), "bench server %ld", proc_pid());
	server = proc_spawn_self(args);	/* from its boot module or its file */
	if (server < 0)
		return server;
	server_name(name, proc_pid());
	port = ipc_lookup(name, IPC_WAIT_NS);
	ret = port;
	if (port >= 0) {
		ret = ipc_round_trips(port, samples, iters);
		sys_call(port, &quit, &rep, IPC_WAIT_NS);
	}
	/* A server that never came up, or missed the quit, is ended by force. */
	if (proc_reap(server, IPC_WAIT_NS, &status) < 0)
		printf("bench: server %ld did not end\n", server);
	return ret;
}

static int yield_stop;

static void yield_partner(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&yield_stop, __ATOMIC_ACQUIRE))
		sys_yield();
}

/*
 * With the partner thread always ready, each sys_yield switches to it and
 * its sys_yield switches back: one sample is two context switches.
 */
static long bench_ctxsw(uint64_t *samples, long iters)
{
	static char stack[16384] __attribute__((aligned(16)));
	uint64_t t0;
	long i, ret;

	__atomic_store_n(&yield_stop, 0, __ATOMIC_RELEASE);
	ret = thread_start(yield_partner, NULL, stack, sizeof(stack));
	if (ret < 0)
		return ret;
	for (i = -WARMUP; i < iters; i++) {
		t0 = rdtsc();
		sys_yield();
		if (i >= 0)
			samples[i] = rdtsc() - t0;
	}
	__atomic_store_n(&yield_stop, 1, __ATOMIC_RELEASE);
	return 0;
}

static const struct bench benches[] = {
	{ .name = "null_syscall", .run = bench_null },
	{ .name = "ipc_call", .run = bench_ipc },
	{ .name = "ctxsw_yield", .run = bench_ctxsw },
};

static void sift_down(uint64_t *a, size_t root, size_t n)
{
	size_t child;
	uint64_t t;

	for (; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && a[child + 1] > a[child])
			child++;
		if (a[root] >= a[child])
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
	}
}

/* Heapsort: O(n log n) without recursion or extra memory. */
void sort_u64(uint64_t *a, size_t n)
{
	size_t i;
	uint64_t t;

	for (i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (i = n; i-- > 1;) {
		t = a[0];
		a[0] = a[i];
		a[i] = t;
		sift_down(a, 0, i);
	}
}

static void report(const char *name, uint64_t *samples, long iters)
{
	uint64_t sum = 0;
	long i;

	sort_u64(samples, (size_t)iters);
	for (i = 0; i < iters; i++)
		sum += samples[i];
	printf("bench %-13s median=%-8llu p99=%-8llu mean=%-8llu iters=%ld\n", name,
	       (unsigned long long)samples[iters / 2],
	       (unsigned long long)samples[iters * 99 / 100],
	       (unsigned long long)(sum / (uint64_t)iters), iters);
}

static long parse_iters(int argc, char **argv)
{
	uint64_t n;

	if (argc < 2)
		return DEFAULT_ITERS;
	if (str_to_u64(argv[1], 10, &n, NULL) < 0 || n == 0 || n > MAX_ITERS)
		return -1;
	return (long)n;
}

int main(int argc, char **argv)
{
	struct sys_stats st;
	uint64_t *samples;
	long iters, ret;
	size_t i;

	if (argc == 3 && !strcmp(argv[1], "server"))
		return bench_server(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "faults"))
		return bench_faults(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "costcheck"))
		return bench_costcheck();
	iters = parse_iters(argc, argv);
	if (iters < 0) {
		printf("usage: bench [ITERATIONS, 1..%d]\n", MAX_ITERS);
		return 2;
	}
	samples = malloc((size_t)iters * sizeof(*samples));
	if (!samples || sys_stats(&st) < 0) {
		printf("bench: out of memory or no stats\n");
		return 1;
	}
	printf("bench cycles_per_sec=%llu (all figures in TSC cycles)\n",
	       (unsigned long long)st.cycles_per_sec);
	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		ret = benches[i].run(samples, iters);
		if (ret < 0)
			printf("bench %s: %s\n", benches[i].name, err_str(ret));
		else
			report(benches[i].name, samples, iters);
	}
	free(samples);
	return 0;
}
