// SPDX-License-Identifier: MIT
/*
 * The chaos test: servers killed at random under load, nothing lost.
 * Run from the shell of a normal boot, where init restarts what dies.
 *
 *   utest chaos SEED ROUNDS CRC SIZE
 *
 * CRC and SIZE are /data/pattern.bin's CRC-32 and length (the test
 * computes them on the host).  Three worker threads run all along:
 *   swap    pages CHAOS_PAGES anonymous pages out (VM_CTL_EVICT) and reads
 *           them back, checking every page, then writes a new pattern;
 *   read    reads the file by file_read() and checks its CRC;
 *   mmap    keeps one mapping of the file, drops its pages (VM_CTL_EVICT)
 *           and checks the CRC over the mapping (every page a fault to fs).
 * Round r kills ata, swapd or fs in turn (r % 3) at a random moment (a
 * seeded generator, the seed printed): after a random delay, and then in
 * the grant modes of every other nine rounds only once it holds a grant
 * (proc_info.grants_held: lent to it or forwarded by it, still live), and
 * in every other of those rounds only once it also runs (on another CPU:
 * its death is processed on the killer's while it uses the grant).
 * The fault path is copy, grant, dma for three rounds each, in turn.  A round ends when the service is
 * back and every worker has finished a pass since.  At the end a stale
 * handle must fail as stale across an fs restart.  Figures: kills per
 * server, kills landing on a held grant, mismatches, the longest restart
 * and the longest single wait of a worker (one page or one read).
 * tests/cases/chaos.py checks the lines printed here.
 */
#include <ferry/sys.h>
#include <file.h>
#include <fmt.h>
#include <proto/block.h>
#include <proto/swapd.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#include "utest.h"

#define CHAOS_PAGES	48
#define IO_CHUNK	(64 * 1024)
#define ROUND_WAIT_NS	(60 * SEC_NS)
#define GRANT_WAIT_NS	(2 * SEC_NS)
#define NSERVICES	3

/* The disk driver is whichever serves the disk (ata or nvme: chaos_setup). */
static const char *services[NSERVICES] = { BLOCK_PORT_NAME, "swapd", "fs" };
static const char *ports[NSERVICES] = { BLOCK_PORT_NAME, SWAPD_PORT_NAME, FS_PORT_NAME };

struct worker {
	const char *name;
	volatile long passes;
	volatile long mismatches;
	volatile long longest_ns;	/* one page touch or one read */
	volatile int done;		/* 1 when it left its loop */
	char stack[16384] __attribute__((aligned(16)));
};

static struct worker workers[3];
static volatile int stop;
static uint32_t want_crc;
static uint64_t file_size;
static const uint8_t *file_map;
static uint8_t io_buf[IO_CHUNK];
static uint64_t rng;

static uint32_t next_random(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng >> 33);
}

static uint32_t crc_table[256];

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	if (!crc_table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			crc_table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

static void note_wait(struct worker *w, long t0)
{
	long d = sys_clock_ns() - t0;

	if (d > w->longest_ns)
		w->longest_ns = d;
}

static void swap_worker(void *arg)
{
	struct worker *w = arg;
	uint8_t *p = (uint8_t *)sys_mem_map(NULL, CHAOS_PAGES * UTEST_PAGE, PROT_READ | PROT_WRITE);

	CHECK((long)p > 0);
	for (uint32_t gen = 1; !stop; gen++) {
		for (long i = 0; i < CHAOS_PAGES; i++)
			utest_fill(p + i * UTEST_PAGE, gen * 1000 + (uint32_t)i);
		sys_vm_ctl(VM_CTL_EVICT, CHAOS_PAGES * UTEST_PAGE, p);	/* < 0: swap away now */
		for (long i = CHAOS_PAGES - 1; i >= 0; i--) {
			long t0 = sys_clock_ns();

			w->mismatches += !utest_filled(p + i * UTEST_PAGE, gen * 1000 + (uint32_t)i);
			note_wait(w, t0);
		}
		w->passes++;
	}
	w->done = 1;
}

static void read_worker(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		long fd = file_open("/data/pattern.bin", O_RDONLY), n;
		uint32_t crc = 0;
		uint64_t bytes = 0;

		if (fd < 0) {
			printf("utest: chaos: open: %s\n", err_str(fd));
			w->mismatches++;
			break;
		}
		for (;;) {
			long t0 = sys_clock_ns();

			n = file_read((int)fd, io_buf, sizeof(io_buf));
			note_wait(w, t0);
			if (n <= 0)
				break;
			crc = crc32_update(crc, io_buf, (size_t)n);
			bytes += (uint64_t)n;
		}
		file_close((int)fd);
		if (n < 0)
			printf("utest: chaos: read: %s\n", err_str(n));
		if (n < 0 || crc != want_crc || bytes != file_size) {
			printf("utest: chaos: read pass %ld: crc %08x, %llu bytes: MISMATCH\n",
			       w->passes, crc, (unsigned long long)bytes);
			w->mismatches++;
		}
		w->passes++;
	}
	w->done = 1;
}

static void mmap_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t len = (file_size + UTEST_PAGE - 1) & ~(uint64_t)(UTEST_PAGE - 1);

	while (!stop) {
		uint32_t crc = 0;

		sys_vm_ctl(VM_CTL_EVICT, (long)len, (void *)file_map);	/* clean: dropped */
		for (uint64_t off = 0; off < file_size; off += UTEST_PAGE) {
			uint64_t n = file_size - off < UTEST_PAGE ? file_size - off : UTEST_PAGE;
			long t0 = sys_clock_ns();
			volatile uint8_t touch = file_map[off];	/* the fault, timed alone */

			(void)touch;
			note_wait(w, t0);
			crc = crc32_update(crc, file_map + off, (size_t)n);
		}
		if (crc != want_crc) {
			printf("utest: chaos: mmap pass %ld: crc %08x: MISMATCH\n", w->passes, crc);
			w->mismatches++;
		}
		w->passes++;
	}
	w->done = 1;
}

static long pid_named(const char *name, struct proc_info *out)
{
	struct proc_info info;

	for (long i = 0; sys_proc_info(i, &info) == 0; i++)
		if (strcmp(info.name, name) == 0) {
			if (out)
				*out = info;
			return info.pid;
		}
	return 0;
}

/* When a kill lands: at random, once the server holds a grant, or once it
 * holds one and runs (on another CPU than the killer: its death is then
 * processed here while it uses the grant there). */
enum kill_when { KILL_ANY, KILL_HOLDING, KILL_RUNNING };

/* Kills service s; => whether it held a grant then (*running: and ran on
 * another CPU).  *old is its pid. */
static bool kill_service(int s, enum kill_when when, long *old, bool *running)
{
	struct proc_info info;
	long start = sys_clock_ns();
	bool held;

	sys_sleep((long)(next_random() % 400) * MSEC_NS);
	do {
		*old = pid_named(services[s], &info);
		CHECK(*old > 0);
		held = info.grants_held > 0;
		*running = held && info.state == THREAD_RUNNING;
		if (when == KILL_ANY || (when == KILL_HOLDING && held) || *running)
			break;
		sys_yield();
	} while (sys_clock_ns() - start < GRANT_WAIT_NS);
	CHECK_OK(sys_kill(*old));
	return held;
}

/* => ms until a new instance serves the service's port. */
static long wait_back(int s, long old)
{
	long start = sys_clock_ns(), pid;

	while ((pid = pid_named(services[s], NULL)) == 0 || pid == old ||
	       sys_port_lookup(ports[s]) < 0) {
		CHECK(sys_clock_ns() - start < ROUND_WAIT_NS);
		sys_sleep(5 * MSEC_NS);
	}
	return (sys_clock_ns() - start) / MSEC_NS;
}

/* Every worker finishes a whole pass after the restart. */
static void wait_passes(void)
{
	long before[3], start = sys_clock_ns();

	for (int i = 0; i < 3; i++)
		before[i] = workers[i].passes;
	for (int i = 0; i < 3; i++)
		while (workers[i].passes < before[i] + 2 && !workers[i].done) {
			CHECK(sys_clock_ns() - start < ROUND_WAIT_NS);
			sys_sleep(10 * MSEC_NS);
		}
}

/* A handle whose inode was deleted and reused while fs restarted: stale. */
static void stale_handle(void)
{
	long fd, fd2, old;
	bool running;
	char buf[16];

	fd = CHECK_OK(file_open("/chaos.tmp", O_RDWR | O_CREAT | O_TRUNC));
	CHECK_EQ(file_write((int)fd, "before", 6), 6);
	kill_service(2, KILL_ANY, &old, &running);
	CHECK_OK(file_unlink("/chaos.tmp"));	/* waits for the restarted fs */
	fd2 = CHECK_OK(file_open("/chaos.tmp", O_RDWR | O_CREAT));
	CHECK_EQ(file_write((int)fd2, "after!", 6), 6);
	CHECK_OK(file_seek((int)fd, 0, SEEK_SET));
	CHECK_EQ(file_read((int)fd, buf, sizeof(buf)), ERR_BADHANDLE);
	CHECK_OK(file_seek((int)fd2, 0, SEEK_SET));
	CHECK_EQ(file_read((int)fd2, buf, sizeof(buf)), 6);
	CHECK(memcmp(buf, "after!", 6) == 0);
	file_close((int)fd);
	file_close((int)fd2);
	CHECK_OK(file_unlink("/chaos.tmp"));
	printf("utest: chaos: stale handle after an fs restart: %s\n", err_str(ERR_BADHANDLE));
}

static void start_workers(void)
{
	static void (*const fns[3])(void *) = { swap_worker, read_worker, mmap_worker };
	static const char *const names[3] = { "swap", "read", "mmap" };

	for (int i = 0; i < 3; i++) {
		workers[i].name = names[i];
		CHECK_OK(thread_start(fns[i], &workers[i], workers[i].stack,
				      sizeof(workers[i].stack)));
	}
}

UTEST_HELPER(chaos)
{
	long seed = utest_arg(argc, argv, 2), rounds = utest_arg(argc, argv, 3);
	long kills[NSERVICES] = { 0 }, on_grant[NSERVICES] = { 0 }, longest_back = 0;
	long on_cpu[NSERVICES] = { 0 };
	long prev, fd, mismatches = 0, longest = 0, start;
	uint64_t crc;

	CHECK(argc > 4 && str_to_u64(argv[4], 16, &crc, NULL) == 0);
	want_crc = (uint32_t)crc;
	file_size = (uint64_t)utest_arg(argc, argv, 5);
	rng = (uint64_t)seed;
	/* The disk driver killed in turn is the one serving the disk. */
	if (sys_port_lookup(BLOCK_PORT_NVME) > 0)
		services[0] = ports[0] = BLOCK_PORT_NVME;
	printf("utest: chaos: seed %ld, %ld rounds, disk driver %s\n", seed, rounds, services[0]);
	vm_need_swap();
	prev = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL);
	fd = CHECK_OK(file_open("/data/pattern.bin", O_RDONLY));
	file_map = (const uint8_t *)CHECK_OK(file_mmap((int)fd, 0, file_size, PROT_READ));
	file_close((int)fd);	/* the mapping outlives it, and every fs */
	start_workers();
	for (long r = 0; r < rounds; r++) {
		int s = (int)(r % NSERVICES);
		long old, back, mode = (r / NSERVICES) % 3;
		enum kill_when when = KILL_ANY;
		bool held, running;

		CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, NULL));
		/* Copy mode lends nothing; in the grant modes every other pass of
		 * nine rounds waits for a grant (every other of those for the
		 * server running with it), the other kills at random. */
		if (mode != FILL_COPY && (r / 9) % 2 == 0)
			when = r % 2 ? KILL_RUNNING : KILL_HOLDING;
		held = kill_service(s, when, &old, &running);
		back = wait_back(s, old);
		wait_passes();
		kills[s]++;
		on_grant[s] += held;
		on_cpu[s] += running;
		if (back > longest_back)
			longest_back = back;
		printf("utest: chaos: round %ld: %s killed (pid %ld, %s a grant, fault path %s),"
		       " back after %ld ms\n", r, services[s], old, held ? "holding" : "not holding",
		       pager_mode_name((uint32_t)mode), back);
	}
	stop = 1;
	start = sys_clock_ns();
	for (int i = 0; i < 3; i++) {
		while (!workers[i].done) {
			CHECK(sys_clock_ns() - start < ROUND_WAIT_NS);
			sys_sleep(10 * MSEC_NS);
		}
		mismatches += workers[i].mismatches;
		if (workers[i].longest_ns > longest)
			longest = workers[i].longest_ns;
		printf("utest: chaos: worker %s: %ld passes, %ld mismatches, longest wait %ld ms\n",
		       workers[i].name, workers[i].passes, workers[i].mismatches,
		       workers[i].longest_ns / MSEC_NS);
	}
	printf("utest: chaos: kills while running on another CPU with a grant: %s %ld swapd %ld"
	       " fs %ld\n", services[0], on_cpu[0], on_cpu[1], on_cpu[2]);
	stale_handle();
	CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_SET, prev, NULL));
	printf("utest: chaos: seed %ld: kills %s %ld swapd %ld fs %ld (holding a grant: %ld %ld"
	       " %ld), mismatches %ld, longest restart %ld ms, longest wait %ld ms\n", seed,
	       services[0], kills[0], kills[1], kills[2], on_grant[0], on_grant[1], on_grant[2], mismatches,
	       longest_back, longest / MSEC_NS);
	CHECK_EQ(mismatches, 0);
	printf("utest: chaos: ok\n");
	return 0;
}
