// SPDX-License-Identifier: MIT
/*
 * Swap files (tests/cases/swapfile.py boots these with the files it made):
 * fs refuses what swapon refuses, with reasons (which the harness reads in
 * fs's log), and once it has given this process (a swap provider: utest
 * has the `swap` right) a swap file, ata serves it exactly that file's
 * sectors, through the allowance, and fs lets nobody else touch the file.
 * swapfile_orphan (a helper, run from the shell): the provider of the file
 * dies, then fs: the restarted fs still refuses the file while the kernel
 * keeps its area for a successor, and lets it go after.
 */
#include <block.h>
#include <file.h>
#include <ipc.h>
#include <proto/fs.h>
#include <stdio.h>
#include <string.h>

#include "utest.h"

#define SWAPFILE	"/swapfile"
#define EXT2_PART	BLOCK_PART(0, 2)

struct swapfile {
	long allowance;
	uint64_t part, size, handle;
	long driver;		/* fs's disk driver's pid */
	int next;
	struct fs_extent ext[FS_SWAP_EXTENTS];
};

static uint8_t page[FS_IO_MAX];

/* FS_SWAPFILE for path, as swapd asks it.  => 0 with *sf filled, or fs's error. */
static long ask(const char *path, struct swapfile *sf)
{
	struct msg req = { .op = FS_SWAPFILE }, rep = { 0 };
	long port = CHECK_OK(ipc_lookup(FS_PORT_NAME, UTEST_WAIT_NS)), err;

	memset(page, 0, MSG_PAGE_SIZE);
	strlcpy((char *)page, path, MSG_PAGE_SIZE);
	req.page = page;
	req.flags = MSG_WITH_PAGES(1);
	rep.page = page;
	rep.flags = MSG_WITH_PAGES(1);
	err = sys_call(port, &req, &rep, 10 * SEC_NS);
	if (err)
		return err;
	if (rep.op == FS_FAIL)
		return (long)rep.arg[0];
	CHECK_EQ(rep.op, FS_OK);
	sf->allowance = (long)rep.arg[0];
	sf->part = rep.arg[1];
	sf->size = rep.arg[2];
	sf->next = (int)rep.arg[3];
	sf->handle = rep.arg[4];
	sf->driver = (long)rep.arg[5];
	CHECK(sf->next >= 1 && sf->next <= FS_SWAP_EXTENTS);
	memcpy(sf->ext, page, (size_t)sf->next * sizeof(sf->ext[0]));
	return 0;
}

/* A process that holds path open for writing until it is killed. */
UTEST_HELPER(swapfile_writer)
{
	long fd = CHECK_OK(file_open(argv[2], O_RDWR));

	(void)fd;
	for (;;)
		sys_sleep(SEC_NS);
}

/* A process that maps path and reads its first byte: fs must refuse the page. */
UTEST_HELPER(swapfile_mapper)
{
	long fd = CHECK_OK(file_open(argv[2], O_RDONLY));
	long addr = CHECK_OK(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ));

	printf("utest: swapfile_mapper read %d\n", *(volatile uint8_t *)addr);
	return 0;
}

UTEST(swapfile_refusals)
{
	static const struct {
		const char *path;
		long err;
	} bad[] = {
		{ "/nope", ERR_NOENT }, { "/docs", ERR_INVAL }, { "/sparse", ERR_INVAL },
		{ "/holed", ERR_INVAL }, { "/badhdr", ERR_INVAL }, { "/tiny", ERR_INVAL },
	};
	struct swapfile sf;
	long writer, fd, addr;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		printf("utest: swap file %s\n", bad[i].path);
		CHECK_EQ(ask(bad[i].path, &sf), bad[i].err);
	}
	/* Open for writing by another process: refused while it lives. */
	writer = utest_spawn("swapfile_writer", "%s", SWAPFILE);
	sys_sleep(SEC_NS / 2);
	CHECK_EQ(ask(SWAPFILE, &sf), ERR_BUSY);
	CHECK_OK(sys_kill(writer));
	utest_reap(writer, PROC_STATUS_KILLED);
	/* Mapped (by us): refused until unmapped. */
	fd = CHECK_OK(file_open(SWAPFILE, O_RDONLY));
	addr = CHECK_OK(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ));
	CHECK_EQ(ask(SWAPFILE, &sf), ERR_BUSY);
	CHECK_OK(file_munmap((void *)addr, UTEST_PAGE));
	CHECK_OK(file_close((int)fd));
	CHECK_EQ(ask(SWAPFILE, &sf), 0);
	printf("utest: swap file %s: allowance %#lx, %d extents\n", SWAPFILE, sf.allowance,
	       sf.next);
	return 0;
}

/* One copy-mode read or write of count sectors at sector of partition part. */
static long blk(struct block_client *c, uint32_t op, uint64_t part, uint64_t sector,
		uint32_t count)
{
	struct msg req = { .op = op }, rep = { 0 };

	req.arg[BLOCK_ARG_PART] = part;
	req.arg[BLOCK_ARG_SECTOR] = sector;
	req.arg[BLOCK_ARG_COUNT] = count;
	req.arg[BLOCK_ARG_MODE] = FILL_COPY;
	if (op == BLOCK_WRITE) {
		req.page = page;
		req.flags = MSG_WITH_PAGES((count + 7) / 8);
	} else {
		rep.page = page;
		rep.flags = MSG_WITH_PAGES((count + 7) / 8);
	}
	return block_call(c, &req, &rep, true);
}

/* Who may read an allowance: not a process it is not for. */
UTEST_HELPER(swapfile_stranger)
{
	static struct allow_info ai;

	ai.ai_nranges = 0;
	CHECK_EQ(sys_allow(ALLOW_INFO, utest_arg(argc, argv, 2), &ai), ERR_PERM);
	CHECK_EQ(sys_allow(ALLOW_LIVE, utest_arg(argc, argv, 2), NULL), ERR_PERM);
	return 0;
}

/* The kernel's side: what the allowance says, and who may do what with it. */
static void allowance_rights(const struct swapfile *sf)
{
	static struct allow_info ai;
	long stranger;

	ai.ai_nranges = ALLOW_RANGES_MAX;
	CHECK_EQ(sys_allow(ALLOW_INFO, sf->allowance, &ai), 0);	/* we are its grantee */
	CHECK_EQ(ai.ai_grantee, proc_pid());
	CHECK(strcmp(ai.ai_creator_name, "fs") == 0);
	CHECK_EQ(ai.ai_tag, sf->part);
	CHECK_EQ(ai.ai_object, sf->handle);
	CHECK_EQ(ai.ai_nranges, sf->next);
	for (int i = 0; i < sf->next; i++)
		CHECK(ai.ai_ranges[i].ar_start == sf->ext[i].fe_sector &&
		      ai.ai_ranges[i].ar_count == sf->ext[i].fe_count);
	CHECK_EQ(sys_allow(ALLOW_LIVE, sf->allowance, NULL), 0);
	ai.ai_nranges = 0;
	CHECK_EQ(sys_allow(ALLOW_INFO, sf->allowance + 1, &ai), ERR_BADHANDLE);
	CHECK_EQ(sys_allow(ALLOW_LIVE, sf->allowance + 1, NULL), ERR_BADHANDLE);
	CHECK_EQ(sys_allow(ALLOW_REVOKE, sf->allowance, NULL), ERR_PERM);	/* not fs */
	CHECK_EQ(sys_allow(ALLOW_LIST, 0, &ai), ERR_PERM);
	ai.ai_grantee = proc_pid();
	ai.ai_nranges = 1;
	ai.ai_ranges[0] = (struct allow_range){ .ar_start = 0, .ar_count = 1 };
	CHECK_EQ(sys_allow(ALLOW_CREATE, 0, &ai), ERR_PERM);	/* no `allow` right */
	stranger = utest_spawn("swapfile_stranger", "%ld", sf->allowance);
	utest_reap(stranger, 0);
}

/* What fs does to everyone else while the file is swap. */
static void others_refused(void)
{
	long fd = CHECK_OK(file_open("/hello.txt", O_RDONLY)), sw, mapper;
	uint8_t b;

	(void)fd;
	CHECK_EQ(file_open(SWAPFILE, O_RDWR), ERR_BUSY);
	CHECK_EQ(file_open(SWAPFILE, O_TRUNC), ERR_BUSY);
	sw = CHECK_OK(file_open(SWAPFILE, O_RDONLY));
	CHECK_EQ(file_read((int)sw, &b, 1), ERR_BUSY);
	CHECK_EQ(file_truncate((int)sw, 0), ERR_BUSY);
	CHECK_EQ(file_unlink(SWAPFILE), ERR_BUSY);
	CHECK_EQ(file_rename(SWAPFILE, "/moved"), ERR_BUSY);
	CHECK_EQ(file_rename("/hello.txt", SWAPFILE), ERR_BUSY);
	mapper = utest_spawn("swapfile_mapper", "%s", SWAPFILE);
	utest_reap(mapper, PROC_STATUS_FAULT);	/* the page-in was refused */
	CHECK_OK(file_close((int)sw));
}

UTEST(swapfile_confined)
{
	struct block_client c;
	struct swapfile sf, again;
	uint64_t via, first, end;
	const struct fs_extent *e0, *last;

	CHECK_EQ(ask(SWAPFILE, &sf), 0);
	CHECK_EQ(sf.part, EXT2_PART);
	CHECK_EQ(ask(SWAPFILE, &again), ERR_BUSY);	/* it has a holder: us */
	CHECK_OK(block_open_pid(&c, "utest", sf.driver, 10 * SEC_NS));
	via = BLOCK_PART_VIA(sf.part, sf.allowance);
	e0 = &sf.ext[0];
	last = &sf.ext[sf.next - 1];
	first = e0->fe_sector;
	end = last->fe_sector + last->fe_count;
	/* Inside: the header page reads back as mkswap wrote it. */
	CHECK_EQ(blk(&c, BLOCK_READ, via, first, 8), 0);
	CHECK(memcmp(page + 4086, "SWAPSPACE2", 10) == 0);
	CHECK_EQ(blk(&c, BLOCK_READ, via, end - 8, 8), 0);
	utest_fill(page, 21);
	CHECK_EQ(blk(&c, BLOCK_WRITE, via, first + 8, 8), 0);	/* a slot's page */
	memset(page, 0, UTEST_PAGE);
	CHECK_EQ(blk(&c, BLOCK_READ, via, first + 8, 8), 0);
	CHECK(utest_filled(page, 21));
	/* Just outside: the sector before the file, after it, across a gap. */
	CHECK_EQ(blk(&c, BLOCK_READ, via, first - 1, 1), ERR_PERM);
	CHECK_EQ(blk(&c, BLOCK_READ, via, first - 1, 2), ERR_PERM);
	CHECK_EQ(blk(&c, BLOCK_READ, via, end, 1), ERR_PERM);
	CHECK_EQ(blk(&c, BLOCK_WRITE, via, end, 1), ERR_PERM);
	if (sf.next > 1)
		CHECK_EQ(blk(&c, BLOCK_READ, via, e0->fe_sector + e0->fe_count - 1, 2), ERR_PERM);
	/* The superblock, and without naming the allowance at all. */
	CHECK_EQ(blk(&c, BLOCK_READ, via, 2, 2), ERR_PERM);
	CHECK_EQ(blk(&c, BLOCK_READ, sf.part, first, 8), ERR_PERM);
	/* A forged allowance id, and the swap partition through this one. */
	CHECK_EQ(blk(&c, BLOCK_READ, BLOCK_PART_VIA(sf.part, sf.allowance + 1), first, 8),
		 ERR_PERM);
	CHECK_EQ(blk(&c, BLOCK_READ, BLOCK_PART_VIA(BLOCK_PART(0, 1), sf.allowance), 8, 8),
		 ERR_PERM);
	others_refused();
	allowance_rights(&sf);
	printf("utest: swap file confined to %d extents, sectors %llu..%llu\n", sf.next,
	       (unsigned long long)first, (unsigned long long)end - 1);
	return 0;
}

/* The holder (the case before) is gone: the file is an ordinary file again. */
UTEST(swapfile_released)
{
	long fd = CHECK_OK(file_open(SWAPFILE, O_RDONLY));

	CHECK_EQ(file_read((int)fd, page, UTEST_PAGE), UTEST_PAGE);
	CHECK(memcmp(page + 4086, "SWAPSPACE2", 10) == 0);
	CHECK_OK(file_close((int)fd));
	return 0;
}

/* --- a swap file whose provider and fs both die (tests/cases/swapfile.py) --- */

#define SWAP_UUID_AT		(1024 + 12)	/* in the mkswap header */
#define ORPHAN_FREE_WAIT_NS	(40 * SEC_NS)
/* SWAP_ORPHAN_NS (kernel/mm/swap.h): how long the kernel keeps the area */
#define ORPHAN_KEPT_NS		(20 * SEC_NS)

/*
 * swapfile_provider: asks fs for /swapfile, reads its header through the
 * allowance, registers as the swap provider of its area (the header's
 * UUID; copy mode, nobody pages to it in this boot), publishes a port and
 * sleeps until it is killed: the kernel then keeps the area for a
 * successor (SWAP_ORPHAN_NS).
 */
UTEST_HELPER(swapfile_provider)
{
	static struct swap_area area;
	struct swapfile sf;
	struct block_client c;
	char name[PORT_NAME_MAX];
	long port;

	CHECK_EQ(ask(SWAPFILE, &sf), 0);
	CHECK_OK(block_open_pid(&c, "utest", sf.driver, 10 * SEC_NS));
	CHECK_EQ(blk(&c, BLOCK_READ, BLOCK_PART_VIA(sf.part, sf.allowance), sf.ext[0].fe_sector,
		     8), 0);
	CHECK(memcmp(page + 4086, "SWAPSPACE2", 10) == 0);
	memcpy(area.sa_uuid, page + SWAP_UUID_AT, sizeof(area.sa_uuid));
	strlcpy(area.sa_where, "file /swapfile (utest)", sizeof(area.sa_where));
	port = CHECK_OK(sys_port_create(4));
	CHECK_OK(sys_swap_register(port, (long)(sf.size / UTEST_PAGE) - 1,
				   FILL_MODE_BIT(FILL_COPY), &area));
	utest_port_name(name, "swapprov", proc_pid());
	CHECK_OK(sys_port_publish(name, port));
	for (;;)
		sys_sleep(SEC_NS);
}

/* Everything fs refuses a file that is swap. */
static void swap_guarded(const char *when)
{
	long sw;
	uint8_t b;

	printf("utest: swapfile orphan: %s\n", when);
	CHECK_EQ(file_open(SWAPFILE, O_RDWR), ERR_BUSY);
	CHECK_EQ(file_open(SWAPFILE, O_TRUNC), ERR_BUSY);
	sw = CHECK_OK(file_open(SWAPFILE, O_RDONLY));
	CHECK_EQ(file_read((int)sw, &b, 1), ERR_BUSY);
	CHECK_EQ(file_truncate((int)sw, 0), ERR_BUSY);
	CHECK_OK(file_close((int)sw));
	CHECK_EQ(file_unlink(SWAPFILE), ERR_BUSY);
	CHECK_EQ(file_rename(SWAPFILE, "/moved"), ERR_BUSY);
	CHECK_EQ(file_rename("/hello.txt", SWAPFILE), ERR_BUSY);
}

/*
 * swapfile_orphan: a provider of /swapfile dies, then fs dies: the
 * restarted fs must go on refusing the file while the kernel keeps its
 * area for a successor, and release it when the kernel lets the area go.
 */
UTEST_HELPER(swapfile_orphan)
{
	struct proc_info info;
	char name[PORT_NAME_MAX];
	long prov, fs, died, fd;

	prov = utest_spawn("swapfile_provider", "-");
	utest_port_name(name, "swapprov", prov);
	CHECK_OK(ipc_lookup(name, UTEST_WAIT_NS));
	/* Read before the kill: the kernel's wait starts at the death, which
	 * the reap reports only later (on another CPU, tens of ms later). */
	died = sys_clock_ns();
	CHECK_OK(sys_kill(prov));
	utest_reap(prov, PROC_STATUS_KILLED);
	swap_guarded("its provider died");
	fs = utest_pid_named("fs");
	CHECK(fs > 0);
	CHECK_OK(sys_kill(fs));
	while (proc_find(fs, &info) == 0 && info.nthreads > 0)
		sys_sleep(MSEC_NS);
	utest_wait_restarted("fs", fs);
	swap_guarded("fs restarted");
	while ((fd = file_open(SWAPFILE, O_RDWR)) == ERR_BUSY) {
		CHECK(sys_clock_ns() - died < ORPHAN_FREE_WAIT_NS);
		sys_sleep(100 * MSEC_NS);
	}
	CHECK_OK(fd);
	printf("utest: swapfile orphan: writable again %ld ms after its provider died\n",
	       (sys_clock_ns() - died) / MSEC_NS);
	CHECK(sys_clock_ns() - died >= ORPHAN_KEPT_NS);
	CHECK_EQ(file_read((int)fd, page, UTEST_PAGE), UTEST_PAGE);
	CHECK(memcmp(page + 4086, "SWAPSPACE2", 10) == 0);
	CHECK_OK(file_close((int)fd));
	printf("utest: swapfile orphan: ok\n");
	return 0;
}
