// SPDX-License-Identifier: MIT
/*
 * Programs from the disk and memory objects: the exec_* cases, run as
 * `utest exec` from the shell of a normal boot whose disk has this very
 * program as /bin/utest and broken ELF files in /bad (tests/cases/exec.py
 * makes it).  Their helpers run from that file: each is a program from
 * the disk, its text paged in from fs and shared between instances.
 *
 *   exec_runs        /bin/hello and /bin/utest run and exit with their
 *                    status in every fill mode; their text comes in as
 *                    page-ins from fs, only the pages touched
 *   exec_share       two instances share their text frames and keep their
 *                    data apart; a private write reaches neither the other
 *                    nor the file
 *   exec_text_dropped  another process's page-out of the file's pages drops
 *                    them from a running program, which pages them in again,
 *                    byte for byte what the file holds
 *   exec_text_pressure  the same under memory pressure, by the page-out daemon,
 *                    which also reclaims object pages nobody maps (left
 *                    behind by copies on write), the copies intact
 *   exec_malformed   broken ELF files, a file that is no ELF and a directory
 *                    are refused (tests/cases/exec.py checks the reasons)
 *   exec_busy        a running program's file cannot be written, truncated,
 *                    removed, replaced or mapped shared and writable; a file
 *                    mapped so cannot be run
 *   exec_shared_writeback  two processes' shared mappings of one file share
 *                    its frame; a dirty page goes back to fs once
 *
 * The runner checks frames, memory objects, grants, requests, ports and
 * processes after each case (utest.h: the exec group).
 */
#include <ferry/sys.h>
#include <file.h>
#include <ipc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utest.h"

#define EXEC_BIN	"/bin/utest"
#define HELLO_BIN	"/bin/hello"
#define SHARED_FILE	"/exec_shared.bin"
#define IDLE_NS		(30 * SEC_NS)
#define TEXT_ROUNDS	4
#define PT_LOAD		1
#define PF_X		1
#define PF_W		2

/*
 * Written by exec_idle: each instance's own copy once written.  Whole
 * pages of .data, so that they are the file's pages (mapped read-only from
 * the object, copied at the write), not the page that holds the end of
 * the data (copied at the first touch anyway, its tail zeroed).
 */
static char exec_marker[2 * UTEST_PAGE] __attribute__((aligned(UTEST_PAGE))) =
	"ferry exec marker: as the file has it";

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

extern const struct elf64_ehdr __ehdr_start;

/* This program's PT_LOAD with `want` of PF_X/PF_W set, from its own headers in memory. */
static const struct elf64_phdr *own_segment(uint32_t want)
{
	const struct elf64_phdr *ph =
		(const struct elf64_phdr *)((const uint8_t *)&__ehdr_start + __ehdr_start.phoff);

	for (int i = 0; i < __ehdr_start.phnum; i++)
		if (ph[i].type == PT_LOAD && (ph[i].flags & (PF_X | PF_W)) == want)
			return &ph[i];
	CHECK(!"no such segment");
	return NULL;
}

/* Where in the file a byte of this program's image is. */
static uint64_t file_offset_of(const void *addr, uint32_t segment)
{
	const struct elf64_phdr *s = own_segment(segment);

	return (uint64_t)addr - s->vaddr + s->offset;
}

/* Runs "utest HELPER ARGS" from the disk's /bin/utest; => its pid. */
static long exec_spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long exec_spawn(const char *fmt, ...)
{
	char args[SPAWN_ARGS_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return CHECK_OK(file_spawn(EXEC_BIN, args));
}

static void wait_asleep(long pid)
{
	utest_wait_state(pid, THREAD_BLOCKED_SLEEP);
}

static void end(long pid)
{
	CHECK_OK(sys_kill(pid));
	utest_reap(pid, PROC_STATUS_KILLED);
}

static long region_of(long pid, uint32_t kind, uint32_t prot, struct mem_region_info *m)
{
	for (long i = 0; sys_mem_info(pid, i, m) == 0; i++)
		if (m->kind == kind && m->prot == prot)
			return 0;
	CHECK(!"no such region");
	return ERR_NOENT;
}

/* --- helpers: they run from /bin/utest --- */

/* exec_idle TAG SECONDS: checks its data is the file's, writes TAG there, sleeps,
 * checks TAG is still there: its own copy. */
UTEST_HELPER(exec_idle)
{
	long ns = utest_arg(argc, argv, 3) * SEC_NS;

	/* Read first: mapped read-only from the file's object, then copied at the write. */
	if (strcmp(exec_marker, "ferry exec marker: as the file has it")) {
		printf("utest: exec_idle %s: its data says '%s' before it wrote\n", argv[2],
		       exec_marker);
		return 1;
	}
	strlcpy(exec_marker, argv[2], sizeof(exec_marker));
	sys_sleep(ns);
	if (strcmp(exec_marker, argv[2])) {
		printf("utest: exec_idle %s: its data says '%s'\n", argv[2], exec_marker);
		return 1;
	}
	return 0;
}

struct text_check {
	long fd;
	uint8_t *text;
	size_t len;
	uint64_t offset;
};

/* Text pages not in memory here now, and pages whose bytes are not the file's. */
static void check_text(struct text_check *tc, long *gone, long *wrong)
{
	static uint8_t file[UTEST_PAGE];

	for (size_t off = 0; off < tc->len; off += UTEST_PAGE) {
		size_t n = tc->len - off < UTEST_PAGE ? tc->len - off : UTEST_PAGE;

		*gone += vm_page_state(tc->text + off) != PAGE_RESIDENT;
		CHECK_EQ(file_seek((int)tc->fd, (int64_t)(tc->offset + off), SEEK_SET),
			 (long)(tc->offset + off));
		CHECK_EQ(file_read((int)tc->fd, file, n), (long)n);
		*wrong += memcmp(tc->text + off, file, n) != 0;
	}
}

static void text_check_open(struct text_check *tc)
{
	const struct elf64_phdr *s = own_segment(PF_X);

	tc->fd = CHECK_OK(file_open(EXEC_BIN, O_RDONLY));
	tc->text = (uint8_t *)s->vaddr;
	tc->len = s->filesz;
	tc->offset = s->offset;
}

/*
 * exec_textcheck: compares its text with the file each time its parent
 * calls (arg[0] = 1 means "look first: which pages went?"), answers
 * arg[0] = pages gone, arg[1] = pages wrong; op 0 ends it.
 */
UTEST_HELPER(exec_textcheck)
{
	char name[PORT_NAME_MAX];
	struct text_check tc;
	struct msg m, a;
	long port;

	text_check_open(&tc);
	utest_port_name(name, "textcheck", proc_pid());
	port = CHECK_OK(ipc_publish(name, 4));
	for (;;) {
		long gone = 0, wrong = 0;

		memset(&m, 0, sizeof(m));
		CHECK_OK(sys_recv(port, &m, 20 * SEC_NS));
		if (m.op == 0)
			return 0;
		check_text(&tc, &gone, &wrong);
		a = (struct msg){ .op = 1, .arg = { (uint64_t)gone, (uint64_t)wrong } };
		CHECK_OK(sys_reply(m.reply, &a));
	}
}

/* exec_textloop SECONDS: checks its text against the file in a loop; exit 0 if
 * every pass matched and some pass found text pages gone. */
UTEST_HELPER(exec_textloop)
{
	long until = sys_clock_ns() + utest_arg(argc, argv, 2) * SEC_NS, gone = 0, wrong = 0;
	long passes = 0;
	struct text_check tc;

	text_check_open(&tc);
	while (sys_clock_ns() < until) {
		check_text(&tc, &gone, &wrong);
		passes++;
		sys_sleep(50 * MSEC_NS);	/* untouched a while: the page-out clock's victims */
	}
	printf("utest: exec_textloop: %ld passes, %ld text pages found gone, %ld wrong\n", passes,
	       gone, wrong);
	return wrong == 0 && gone > 0 ? 0 : 1;
}

/* exec_map_write PATH: maps PATH shared, checks the parent's 'P' at 0, writes 'C' at 100, exits. */
UTEST_HELPER(exec_map_write)
{
	long fd;
	uint8_t *p;

	CHECK(argc > 2);
	fd = CHECK_OK(file_open(argv[2], O_RDWR));
	p = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ | PROT_WRITE));
	CHECK_EQ(p[0], 'P');	/* the parent's write, not written back: the same frame */
	p[100] = 'C';
	return 0;	/* exit writes the page back */
}

/* --- cases --- */

static const char *const mode_names[] = { "copy", "grant", "dma" };

/* A program from the disk runs, exits with its status, and came in by page-ins. */
static void run_in_mode(long mode)
{
	struct fault_stats before[FILL_NMODES], after[FILL_NMODES];
	struct mem_region_info text;
	struct proc_info info;
	long pid, status = 0;

	vm_faultpath(mode);
	vm_stats(before);
	CHECK_OK(proc_reap(CHECK_OK(file_spawn(HELLO_BIN, "hello 7 from utest")), 10 * SEC_NS,
			   &status));
	CHECK_EQ(status, 7);
	vm_stats(after);
	CHECK(after[mode].pages_in > before[mode].pages_in);	/* its text, from fs */

	pid = exec_spawn("utest exec_idle %s 30", mode_names[mode]);
	wait_asleep(pid);
	CHECK_OK(proc_find(pid, &info));
	CHECK(!strcmp(info.image, EXEC_BIN));
	CHECK_OK(region_of(pid, MEM_KIND_PROGRAM, PROT_READ | PROT_EXEC, &text));
	/* Only what it touched: utest's text is many pages, exec_idle runs few. */
	CHECK(text.resident >= 1);
	CHECK(text.resident < (text.end - text.start) / UTEST_PAGE);
	CHECK_EQ(text.shared, text.resident);
	CHECK_EQ(text.private_pages, 0);
	end(pid);
}

UTEST(exec_runs)
{
	long prev = vm_faultpath(FILL_COPY);

	for (long mode = 0; mode < FILL_NMODES; mode++)
		run_in_mode(mode);
	vm_faultpath(prev);
	return 0;
}

UTEST(exec_share)
{
	struct memobj_stats s0, s1;
	struct mem_region_info ta, tb, da, db;
	static char original[sizeof(exec_marker)];
	long fd, a, b;

	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &s0));
	a = exec_spawn("utest exec_idle instance-A 2");
	wait_asleep(a);
	b = exec_spawn("utest exec_idle instance-B 2");
	wait_asleep(b);
	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &s1));
	CHECK_OK(region_of(a, MEM_KIND_PROGRAM, PROT_READ | PROT_EXEC, &ta));
	CHECK_OK(region_of(b, MEM_KIND_PROGRAM, PROT_READ | PROT_EXEC, &tb));
	/* One object, its frames mapped by both: B's text faults found A's pages. */
	CHECK(ta.memobj && ta.memobj == tb.memobj);
	CHECK(ta.shared_others > 0 && tb.shared_others > 0);
	CHECK(s1.hits > s0.hits);
	CHECK_EQ(s1.live, s0.live + 1);
	/* Each has its own copy of the data page it wrote. */
	CHECK_OK(region_of(a, MEM_KIND_PROGRAM, PROT_READ | PROT_WRITE, &da));
	CHECK_OK(region_of(b, MEM_KIND_PROGRAM, PROT_READ | PROT_WRITE, &db));
	CHECK((da.flags & MEM_F_PRIVATE) && da.private_pages >= 1 && db.private_pages >= 1);
	CHECK(s1.cows >= s0.cows + 2);	/* the marker's page, copied at each one's write */
	/* Each finds its own tag at the end, and the file kept what it had. */
	utest_reap(a, 0);
	utest_reap(b, 0);
	fd = CHECK_OK(file_open(EXEC_BIN, O_RDONLY));
	CHECK_OK(file_seek((int)fd, (int64_t)file_offset_of(exec_marker, PF_W), SEEK_SET));
	CHECK_EQ(file_read((int)fd, original, sizeof(original)), (long)sizeof(original));
	CHECK(!memcmp(original, exec_marker, sizeof(original)));
	file_close((int)fd);
	return 0;
}

/* The parent maps the program's text from its file, and pages it out. */
static uint8_t *map_text(long *fd, size_t *len)
{
	const struct elf64_phdr *s = own_segment(PF_X);

	*fd = CHECK_OK(file_open(EXEC_BIN, O_RDONLY));
	*len = (s->filesz + UTEST_PAGE - 1) & ~(size_t)(UTEST_PAGE - 1);
	return (uint8_t *)CHECK_OK(file_mmap((int)*fd, s->offset, *len, PROT_READ));
}

UTEST(exec_text_dropped)
{
	struct memobj_stats s0, s1;
	char name[PORT_NAME_MAX];
	struct msg m, a;
	long child, port, fd;
	size_t len;
	volatile uint8_t *text = map_text(&fd, &len);

	child = exec_spawn("utest exec_textcheck");
	utest_port_name(name, "textcheck", child);
	port = CHECK_OK(ipc_lookup(name, UTEST_WAIT_NS));
	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &s0));
	for (int round = 0; round < TEXT_ROUNDS; round++) {
		for (size_t off = 0; off < len; off += UTEST_PAGE)
			(void)text[off];	/* ours mapped too: the object's pages */
		CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, (long)len, (void *)text), (long)(len / UTEST_PAGE));
		m = (struct msg){ .op = 1 };
		CHECK_OK(sys_call(port, &m, &a, 10 * SEC_NS));
		CHECK_EQ(a.arg[1], 0);	/* every page the file's bytes */
		CHECK(a.arg[0] > 0);	/* the page-out dropped them from the child too */
	}
	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &s1));
	CHECK(s1.drops >= s0.drops + TEXT_ROUNDS * (len / UTEST_PAGE));
	m = (struct msg){ .op = 0 };
	CHECK_OK(sys_send(port, &m));
	utest_reap(child, 0);
	CHECK_OK(file_munmap((void *)text, len));
	file_close((int)fd);
	return 0;
}

/* Touches n pages of p, writing each, for a while. */
static void hog(uint8_t *p, long n, long rounds)
{
	for (long r = 0; r < rounds; r++)
		for (long i = 0; i < n; i++)
			p[i * UTEST_PAGE] = (uint8_t)(i + r);
}

#define RECLAIM_FILE	"/exec_reclaim.bin"
#define RECLAIM_PAGES	32

/*
 * A private mapping whose every page was read, then written: the object
 * still caches the pages it was copied from, mapped by nobody now.
 */
static uint8_t *copied_mapping(long *fd, struct mem_region_info *m)
{
	static uint8_t page[UTEST_PAGE];
	uint8_t *p;

	*fd = CHECK_OK(file_open(RECLAIM_FILE, O_RDWR | O_CREAT | O_TRUNC));
	for (long i = 0; i < RECLAIM_PAGES; i++) {
		utest_fill(page, (uint32_t)i);
		CHECK_EQ(file_write((int)*fd, page, UTEST_PAGE), UTEST_PAGE);
	}
	p = (uint8_t *)CHECK_OK(file_mmap((int)*fd, 0, RECLAIM_PAGES * UTEST_PAGE,
					  PROT_READ | PROT_WRITE | MAP_PRIVATE));
	for (long i = 0; i < RECLAIM_PAGES; i++) {
		CHECK(utest_filled(p + i * UTEST_PAGE, (uint32_t)i));
		p[i * UTEST_PAGE] ^= 0xff;	/* copy-on-write: the object's page stays behind */
	}
	CHECK_OK(region_of(0, MEM_KIND_FILE, PROT_READ | PROT_WRITE, m));
	CHECK_EQ(m->obj_pages, RECLAIM_PAGES);
	CHECK_EQ(m->private_pages, RECLAIM_PAGES);
	return p;
}

UTEST(exec_text_pressure)
{
	struct memobj_stats s0, s1;
	struct mem_region_info m;
	struct sys_stats st;
	long child, n, status, fd;
	uint8_t *p, *copied;

	vm_need_swap();
	copied = copied_mapping(&fd, &m);
	child = exec_spawn("utest exec_textloop 4");
	CHECK_OK(sys_stats(&st));
	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &s0));
	/* Past the page-out daemon's low watermark, within what swap holds. */
	n = (long)st.frames_free - 64;
	p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, n * UTEST_PAGE, PROT_READ | PROT_WRITE));
	hog(p, n, 3);
	CHECK_OK(proc_reap(child, 20 * SEC_NS, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &s1));
	CHECK(s1.drops > s0.drops);
	CHECK_OK(sys_mem_unmap(p, n * UTEST_PAGE));
	/* The pages nobody mapped went first; the copies are intact. */
	CHECK_OK(region_of(0, MEM_KIND_FILE, PROT_READ | PROT_WRITE, &m));
	CHECK(m.obj_pages < RECLAIM_PAGES);
	for (long i = 0; i < RECLAIM_PAGES; i++) {
		copied[i * UTEST_PAGE] ^= 0xff;
		CHECK(utest_filled(copied + i * UTEST_PAGE, (uint32_t)i));
	}
	CHECK_OK(file_munmap(copied, RECLAIM_PAGES * UTEST_PAGE));
	file_close((int)fd);
	CHECK_OK(file_unlink(RECLAIM_FILE));
	return 0;
}

UTEST(exec_malformed)
{
	static const char *const bad[] = {
		"/bad/bad_magic", "/bad/bad_class", "/bad/bad_machine", "/bad/truncated",
		"/bad/phdr_out_of_bounds", "/bad/kernel_address", "/bad/entry_outside",
		"/bad/overlapping", "/bad/filesz_gt_memsz", "/bad/writable_exec",
		"/bad/truncated_after_headers", "/bad/segment_past_eof", "/bad/not_elf",
		"/bad/empty",
	};
	int wrong = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long ret = file_spawn(bad[i], NULL);

		if (ret == ERR_NOEXEC)
			continue;
		printf("utest: spawn %s: got %ld (%s), want ERR_NOEXEC\n", bad[i], ret,
		       ret < 0 ? err_str(ret) : "a process");
		if (ret > 0)
			end(ret);
		wrong++;
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(file_spawn("/bin", NULL), ERR_INVAL);	/* a directory */
	CHECK_EQ(file_spawn("/bin/nothing", NULL), ERR_NOENT);
	return 0;
}

UTEST(exec_busy)
{
	uint8_t head[64];
	long pid, fd, map;

	pid = exec_spawn("utest exec_idle busy 30");
	wait_asleep(pid);
	fd = CHECK_OK(file_open(EXEC_BIN, O_RDWR));
	CHECK_EQ(file_read((int)fd, head, sizeof(head)), (long)sizeof(head));
	CHECK_OK(file_seek((int)fd, 0, SEEK_SET));
	CHECK_EQ(file_write((int)fd, head, sizeof(head)), ERR_TXTBSY);
	CHECK_EQ(file_truncate((int)fd, 0), ERR_TXTBSY);
	CHECK_EQ(file_open(EXEC_BIN, O_RDWR | O_TRUNC), ERR_TXTBSY);
	CHECK_EQ(file_unlink(EXEC_BIN), ERR_TXTBSY);
	CHECK_EQ(file_rename(HELLO_BIN, EXEC_BIN), ERR_TXTBSY);
	CHECK_EQ(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ | PROT_WRITE), ERR_BUSY);
	map = CHECK_OK(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ | PROT_WRITE | MAP_PRIVATE));
	CHECK_OK(file_munmap((void *)map, UTEST_PAGE));
	end(pid);
	/* Nobody runs it now: a shared writable mapping is fine, and then it cannot run. */
	map = CHECK_OK(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ | PROT_WRITE));
	CHECK_EQ(file_spawn(EXEC_BIN, "utest exec_idle x 1"), ERR_BUSY);
	CHECK_OK(file_munmap((void *)map, UTEST_PAGE));
	/* ... and a write goes through (the same bytes: the file stays as it was). */
	CHECK_OK(file_seek((int)fd, 0, SEEK_SET));
	CHECK_EQ(file_write((int)fd, head, sizeof(head)), (long)sizeof(head));
	file_close((int)fd);
	return 0;
}

UTEST(exec_shared_writeback)
{
	struct fault_stats before[FILL_NMODES], after[FILL_NMODES];
	long fd, child, out_before = 0, out_after = 0;
	uint8_t zero[UTEST_PAGE] = { 0 }, *p;

	fd = CHECK_OK(file_open(SHARED_FILE, O_RDWR | O_CREAT | O_TRUNC));
	CHECK_EQ(file_write((int)fd, zero, sizeof(zero)), (long)sizeof(zero));
	p = (uint8_t *)CHECK_OK(file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ | PROT_WRITE));
	p[0] = 'P';
	vm_stats(before);
	child = exec_spawn("utest exec_map_write %s", SHARED_FILE);
	utest_reap(child, 0);
	vm_stats(after);
	for (int m = 0; m < FILL_NMODES; m++) {
		out_before += (long)before[m].pages_out;
		out_after += (long)after[m].pages_out;
	}
	CHECK_EQ(out_after - out_before, 1);	/* two writers, one page written back */
	/* Written back and dropped from both mappings: ours reads it again from fs. */
	CHECK_EQ(vm_page_state(p), PAGE_WITH_PAGER);
	CHECK_EQ(p[0], 'P');
	CHECK_EQ(p[100], 'C');
	CHECK_OK(file_munmap(p, UTEST_PAGE));
	CHECK_OK(file_seek((int)fd, 0, SEEK_SET));
	CHECK_EQ(file_read((int)fd, zero, 128), 128);
	CHECK(zero[0] == 'P' && zero[100] == 'C');
	file_close((int)fd);
	CHECK_OK(file_unlink(SHARED_FILE));
	return 0;
}
