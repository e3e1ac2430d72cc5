// SPDX-License-Identifier: MIT
/*
 * pagetest: sends pages to swap and brings them back, checking every byte.
 *
 *   pagetest [pages] [mode]    mode: copy, grant or dma (default: the
 *                              fault path as it is); 64 pages by default
 *   pagetest stuck             a pager that never answers its own thread's
 *                              fault: a stuck provider, for the debug console
 *
 * It maps anonymous memory, writes a pattern naming each page, pages the
 * whole range out with VM_CTL_EVICT, checks that every page really left
 * (VM_CTL_PAGE_STATE), then reads the pages back in reverse order, each
 * read a fault served by the swap provider.  A handy stimulus for the
 * debug console: `break grant` in kdb, then run pagetest.
 *
 * It does what it is asked or says why not: more pages than swap has room
 * for, or no swap provider at all, are refused before anything is written;
 * a page that stays in memory or comes back wrong fails the run.  Any
 * failure exits non-zero.  The fault path is system-wide, so a mode given
 * on the command line holds for this run only, as with sh's `sum`.
 */
#include <ferry/sys.h>
#include <proto/swapd.h>
#include <stdbool.h>
#include <stdio.h>
#include <thread.h>
#include <stdlib.h>
#include <string.h>

#define PAGE	4096UL
/* Only so that pages * PAGE cannot overflow: swap's room is the real limit. */
#define MAX_PAGES	(1L << 20)
#define SWAPD_WAIT_NS	(5 * 1000000000L)

static uint64_t pattern(uint64_t page, uint64_t word)
{
	return (page << 32) ^ (word * 0x9E3779B97F4A7C15ULL) ^ 0xF0F0;
}

static int mode_number(const char *name)
{
	static const char *const names[] = { "copy", "grant", "dma" };

	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static long count_state(uint8_t *base, long pages, long state)
{
	long n = 0;

	for (long i = 0; i < pages; i++)
		n += sys_vm_ctl(VM_CTL_PAGE_STATE, (long)(base + i * PAGE), 0) == state;
	return n;
}

/* A page count, 1..MAX_PAGES; anything else is not one. */
static int parse_pages(const char *s, long *pages)
{
	uint64_t v;
	const char *end;

	if (str_to_u64(s, 10, &v, &end) != 0 || *end || v < 1 || v > (uint64_t)MAX_PAGES)
		return -1;
	*pages = (long)v;
	return 0;
}

/* The slots of the provider published as `name`: 0 if there is none, or < 0. */
static long provider_slots(const char *name)
{
	struct msg req = { .op = SWAPD_INFO }, rep = { 0 };
	long port = sys_port_lookup(name), err;

	if (port < 0)
		return 0;
	err = sys_call(port, &req, &rep, SWAPD_WAIT_NS);
	if (!err && rep.op != SWAPD_INFO)
		err = ERR_INVAL;
	if (err)
		printf("pagetest: cannot ask %s how much room swap has: %s\n", name, err_str(err));
	return err ? err : (long)rep.arg[SWAPD_INFO_SLOTS];
}

/* Whether swap (swapd, and a swap file's provider) can take `pages` more
 * pages; says why not when it cannot. */
static bool swap_room_for(long pages)
{
	static const char *const providers[] = { SWAPD_PORT_NAME, "swapfile" };
	struct sys_stats st;
	long slots = 0, room;

	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
		long n = provider_slots(providers[i]);

		if (n < 0)
			return false;
		slots += n;
	}
	if (slots == 0) {
		printf("pagetest: no swap provider (swapd is not running): nowhere to page out to\n");
		return false;
	}
	if (sys_stats(&st)) {
		printf("pagetest: cannot ask the kernel how much swap is used\n");
		return false;
	}
	room = slots - (long)st.swap_slots_used;
	if (pages > room) {
		printf("pagetest: %ld pages asked for, but swap has room for %ld: refused\n", pages,
		       room < 0 ? 0 : room);
		return false;
	}
	return true;
}

static volatile uint8_t *stuck_page;

static void stuck_toucher(void *arg)
{
	(void)arg;
	printf("pagetest: touching a page whose pager never answers\n");
	(void)*stuck_page;	/* sleeps in pager-io until someone kills us */
	printf("pagetest: the stuck page came in after all?\n");
}

/* The main thread owns the pager port and never answers. */
static int stuck(void)
{
	static char stack[16384] __attribute__((aligned(16)));
	long port = sys_port_create(4), addr;

	if (port < 0)
		return 1;
	addr = sys_mem_map_pager(port, 1, 0, PAGE, PROT_READ);
	if (addr < 0) {
		printf("pagetest: cannot be the pager of a page: %s\n", err_str(addr));
		return 1;
	}
	stuck_page = (volatile uint8_t *)addr;
	if (thread_start(stuck_toucher, NULL, stack, sizeof(stack)) < 0)
		return 1;
	for (;;)
		sys_sleep(1000000000);
}

/* Out and back in: 0 when every page left memory and came back intact. */
static int roundtrip(long pages)
{
	long bad = 0, out, swapped, resident;
	bool failed;
	uint8_t *base = (uint8_t *)sys_mem_map(0, pages * PAGE, PROT_READ | PROT_WRITE);

	if ((long)base < 0) {
		printf("pagetest: mem_map of %ld pages: %s\n", pages, err_str((long)base));
		return 1;
	}
	for (long i = 0; i < pages; i++)
		for (uint64_t w = 0; w < PAGE / 8; w += 64)
			((uint64_t *)(base + i * PAGE))[w] = pattern((uint64_t)i, w);
	out = sys_vm_ctl(VM_CTL_EVICT, pages * PAGE, base);
	if (out < 0) {
		printf("pagetest: page-out of %ld pages failed: %s\n", pages, err_str(out));
		sys_mem_unmap(base, pages * PAGE);
		return 1;
	}
	swapped = count_state(base, pages, PAGE_SWAPPED);
	printf("pagetest: %ld pages written, %ld paged out, %ld now in swap\n", pages, out, swapped);
	if (out != pages || swapped != pages)
		printf("pagetest: %ld of %ld pages stayed in memory\n", pages - swapped, pages);
	for (long i = pages - 1; i >= 0; i--)
		for (uint64_t w = 0; w < PAGE / 8; w += 64)
			bad += ((uint64_t *)(base + i * PAGE))[w] != pattern((uint64_t)i, w);
	resident = count_state(base, pages, PAGE_RESIDENT);
	/* The mismatches are words read back wrong; a page that never left
	 * memory fails the round trip too, but loses nothing. */
	failed = bad || out != pages || swapped != pages || resident != pages;
	printf("pagetest: %ld pages read back, %ld resident, %ld mismatches: %s\n", pages,
	       resident, bad, failed ? "FAILED" : "ok");
	sys_mem_unmap(base, pages * PAGE);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	long pages = 64, mode = -1, old, status;

	if (argc > 1 && strcmp(argv[1], "stuck") == 0)
		return stuck();
	if (argc > 3 || (argc > 1 && parse_pages(argv[1], &pages) < 0) ||
	    (argc > 2 && (mode = mode_number(argv[2])) < 0)) {
		printf("usage: pagetest [PAGES, 1..%ld] [copy|grant|dma], or pagetest stuck\n",
		       MAX_PAGES);
		return 2;
	}
	old = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL);
	if (mode >= 0 && mode != old) {
		long err = sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, NULL);

		if (err < 0) {
			printf("pagetest: cannot switch the fault path to %s: %s\n", argv[2],
			       err_str(err));
			return 2;
		}
	}
	status = swap_room_for(pages) ? roundtrip(pages) : 1;
	/* The fault path is system-wide: back to what it was, as sh's sum does. */
	if (mode >= 0 && mode != old)
		sys_vm_ctl(VM_CTL_FAULTPATH_SET, old, NULL);
	return (int)status;
}
