// SPDX-License-Identifier: MIT
/*
 * Shared file mappings whose last process dies without exiting
 * (kernel/mm/memobj.h: an object nobody refers to stays until its dirty
 * pages are written back), and exit's write-back, which leaves the clean
 * pages other processes map alone.
 *
 *   exec_map_killed      a process that wrote to a shared mapping is
 *                        killed: the kernel writes its pages back all the
 *                        same, whether another process maps the file or
 *                        not; its private (copy-on-write) pages never
 *                        reach the file, which stays for the host to read
 *                        (tests/cases/exec.py)
 *   exec_map_exit_keeps_clean  a process exits after writing one page of a
 *                        file another process maps: the dirty page goes
 *                        back, the other pages stay mapped in the other
 *   mapkill_fs_away      (a helper, run from the shell by
 *                        tests/cases/restart.py) the same kill while fs
 *                        is dead: the pages wait for the restarted fs
 */
#include <ferry/sys.h>
#include <file.h>
#include <stdio.h>
#include <string.h>

#include "utest.h"

#define MAPKILL_FILE		"/mapkill.bin"
#define MAPKILL_FILE2		"/mapkill2.bin"
#define MAPKILL_FS_FILE		"/mapkill_fs.bin"
#define MAPKILL_PAGES		6	/* the last one only written privately */
#define MAPKILL_SEED		40	/* page i of the shared mapping: seed + i */
#define MAPKILL_PRIV_SEED	80	/* page i of the private mapping */
#define KEEP_FILE		"/keepclean.bin"
#define KEEP_PAGES		4
#define KEEP_SEED		60	/* what the file holds at first */
#define KEEP_WRITTEN_SEED	70	/* what the child writes to page 0 */
#define WRITEBACK_WAIT_NS	(10 * SEC_NS)	/* the tick is 100 ms; a case has 20 s */

static uint8_t buf[UTEST_PAGE];

/* path with `pages` pages, page i filled with seed + i (seed < 0: zeros). */
static void make_file(const char *path, int pages, long seed)
{
	long fd = CHECK_OK(file_open(path, O_RDWR | O_CREAT | O_TRUNC));

	for (int i = 0; i < pages; i++) {
		if (seed < 0)
			memset(buf, 0, sizeof(buf));
		else
			utest_fill(buf, (uint32_t)(seed + i));
		CHECK_EQ(file_write((int)fd, buf, sizeof(buf)), (long)sizeof(buf));
	}
	CHECK_OK(file_close((int)fd));
}

/* Page i of path as fs reads it: seed + i, or zeros for seed < 0. */
static bool file_page_is(const char *path, int i, long seed)
{
	long fd = CHECK_OK(file_open(path, O_RDONLY));
	bool ok;

	CHECK_OK(file_seek((int)fd, (int64_t)i * UTEST_PAGE, SEEK_SET));
	CHECK_EQ(file_read((int)fd, buf, sizeof(buf)), (long)sizeof(buf));
	CHECK_OK(file_close((int)fd));
	if (seed >= 0)
		return utest_filled(buf, (uint32_t)(seed + i));
	ok = true;
	for (size_t k = 0; k < sizeof(buf); k++)
		ok &= buf[k] == 0;
	return ok;
}

static uint64_t objects_live(void)
{
	struct memobj_stats st;

	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &st));
	return st.live;
}

/* Until no more objects live than `want`: the dead mapping's object went
 * when its pages had been written back. */
static void wait_objects(uint64_t want)
{
	long start = sys_clock_ns();

	while (objects_live() > want) {
		CHECK(sys_clock_ns() - start < WRITEBACK_WAIT_NS);
		sys_sleep(10 * MSEC_NS);
	}
}

/*
 * exec_map_dirty PATH: maps PATH privately and writes every page of it
 * (copies of its own), then maps it shared and writes all pages but the
 * last, and sleeps until it is killed.
 */
UTEST_HELPER(exec_map_dirty)
{
	size_t len = MAPKILL_PAGES * UTEST_PAGE;
	long fd;
	uint8_t *priv, *shared;

	CHECK(argc > 2);
	fd = CHECK_OK(file_open(argv[2], O_RDWR));
	priv = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, len,
					     PROT_READ | PROT_WRITE | MAP_PRIVATE));
	shared = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, len, PROT_READ | PROT_WRITE));
	for (int i = 0; i < MAPKILL_PAGES; i++)
		utest_fill(priv + i * UTEST_PAGE, MAPKILL_PRIV_SEED + (uint32_t)i);
	for (int i = 0; i < MAPKILL_PAGES - 1; i++)
		utest_fill(shared + i * UTEST_PAGE, MAPKILL_SEED + (uint32_t)i);
	for (;;)
		sys_sleep(SEC_NS);
}

/* What a killed writer of path left in the file: its shared writes, and
 * none of its private ones. */
static void check_written(const char *path)
{
	for (int i = 0; i < MAPKILL_PAGES - 1; i++) {
		if (!file_page_is(path, i, MAPKILL_SEED))
			printf("utest: %s page %d: not what the killed process wrote\n", path, i);
		CHECK(file_page_is(path, i, MAPKILL_SEED));
	}
	CHECK(file_page_is(path, MAPKILL_PAGES - 1, -1));
}

static void kill_writer(const char *path)
{
	long pid = utest_spawn("exec_map_dirty", "%s", path);

	utest_wait_state(pid, THREAD_BLOCKED_SLEEP);
	CHECK_OK(sys_kill(pid));
	utest_reap(pid, PROC_STATUS_KILLED);
}

static bool all_written(const char *path)
{
	for (int i = 0; i < MAPKILL_PAGES - 1; i++)
		if (!file_page_is(path, i, MAPKILL_SEED))
			return false;
	return true;
}

UTEST(exec_map_killed)
{
	uint64_t live;
	long fd, start;
	uint8_t *p;

	/* Nobody else maps the file: its object is kept for the pages. */
	make_file(MAPKILL_FILE, MAPKILL_PAGES, -1);
	live = objects_live();
	kill_writer(MAPKILL_FILE);
	wait_objects(live);
	check_written(MAPKILL_FILE);	/* the file stays: the host reads it after the run */
	/* We map it too, touching nothing: the pages no PTE maps go back all the same. */
	make_file(MAPKILL_FILE2, MAPKILL_PAGES, -1);
	fd = CHECK_OK(file_open(MAPKILL_FILE2, O_RDONLY));
	p = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, MAPKILL_PAGES * UTEST_PAGE, PROT_READ));
	kill_writer(MAPKILL_FILE2);
	start = sys_clock_ns();
	while (!all_written(MAPKILL_FILE2)) {
		CHECK(sys_clock_ns() - start < WRITEBACK_WAIT_NS);
		sys_sleep(10 * MSEC_NS);
	}
	check_written(MAPKILL_FILE2);
	for (int i = 0; i < MAPKILL_PAGES - 1; i++)
		CHECK(utest_filled(p + i * UTEST_PAGE, MAPKILL_SEED + (uint32_t)i));
	CHECK_OK(file_munmap(p, MAPKILL_PAGES * UTEST_PAGE));
	CHECK_OK(file_close((int)fd));
	CHECK_OK(file_unlink(MAPKILL_FILE2));
	return 0;
}

/* exec_map_write_one PATH: maps PATH shared, reads every page, writes page 0, exits. */
UTEST_HELPER(exec_map_write_one)
{
	long fd;
	uint8_t *p;

	CHECK(argc > 2);
	fd = CHECK_OK(file_open(argv[2], O_RDWR));
	p = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, KEEP_PAGES * UTEST_PAGE,
					  PROT_READ | PROT_WRITE));
	for (int i = 0; i < KEEP_PAGES; i++)
		CHECK(utest_filled(p + i * UTEST_PAGE, KEEP_SEED + (uint32_t)i));
	utest_fill(p, KEEP_WRITTEN_SEED);
	return 0;	/* exit writes page 0 back */
}

UTEST(exec_map_exit_keeps_clean)
{
	long fd, child;
	uint8_t *p;

	make_file(KEEP_FILE, KEEP_PAGES, KEEP_SEED);
	fd = CHECK_OK(file_open(KEEP_FILE, O_RDONLY));
	p = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, KEEP_PAGES * UTEST_PAGE, PROT_READ));
	for (int i = 0; i < KEEP_PAGES; i++)
		CHECK(utest_filled(p + i * UTEST_PAGE, KEEP_SEED + (uint32_t)i));
	child = utest_spawn("exec_map_write_one", "%s", KEEP_FILE);
	utest_reap(child, 0);
	/* The pages it only read are still ours, mapped: nothing read again. */
	for (int i = 1; i < KEEP_PAGES; i++)
		CHECK_EQ(vm_page_state(p + i * UTEST_PAGE), PAGE_RESIDENT);
	CHECK(utest_filled(p, KEEP_WRITTEN_SEED));
	CHECK(file_page_is(KEEP_FILE, 0, KEEP_WRITTEN_SEED));
	CHECK_OK(file_munmap(p, KEEP_PAGES * UTEST_PAGE));
	CHECK_OK(file_close((int)fd));
	CHECK_OK(file_unlink(KEEP_FILE));
	return 0;
}

/* Kills fs and waits until its process is released (its pager orphaned).
 * => when it was killed. */
static long kill_fs(long fs)
{
	struct proc_info info;
	long start = sys_clock_ns();

	CHECK(fs > 0);
	CHECK_OK(sys_kill(fs));
	while (proc_find(fs, &info) == 0 && info.nthreads > 0) {
		CHECK(sys_clock_ns() - start < UTEST_WAIT_NS);
		sys_sleep(MSEC_NS / 4);
	}
	return start;
}

/*
 * mapkill_fs_away: exec_map_killed with fs dead, so that the writer dies
 * while its file's pager is away: its pages wait for the restarted fs.
 * fs is killed twice, so that init restarts it the second time only after
 * its back-off (100 ms, user/init): the writer dies inside that window.
 * The file stays for the host (tests/cases/restart.py).
 */
UTEST_HELPER(mapkill_fs_away)
{
	uint64_t live;
	long pid, fs, killed;

	make_file(MAPKILL_FS_FILE, MAPKILL_PAGES, -1);
	live = objects_live();
	pid = utest_spawn("exec_map_dirty", "%s", MAPKILL_FS_FILE);
	utest_wait_state(pid, THREAD_BLOCKED_SLEEP);
	fs = utest_pid_named("fs");
	kill_fs(fs);
	fs = utest_wait_restarted("fs", fs);
	killed = kill_fs(fs);
	CHECK_OK(sys_kill(pid));
	utest_reap(pid, PROC_STATUS_KILLED);
	printf("utest: mapkill: writer %ld died %ld ms after fs (pid %ld)\n", pid,
	       (sys_clock_ns() - killed) / MSEC_NS, fs);
	utest_wait_restarted("fs", fs);
	wait_objects(live);
	check_written(MAPKILL_FS_FILE);
	printf("utest: mapkill fs away: ok\n");
	return 0;
}
