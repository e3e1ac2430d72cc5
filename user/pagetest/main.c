// SPDX-License-Identifier: MIT
/*
 * pagetest: sends pages to swap and brings them back, checking every byte.
 *
 *   pagetest [pages] [mode]    mode: copy, grant or dma (default: as booted)
 *   pagetest stuck             a pager that never answers its own thread's
 *                              fault: a stuck provider, for the debug console
 *
 * It maps anonymous memory, writes a pattern naming each page, pages the
 * whole range out with VM_CTL_EVICT, checks that every page really left
 * (VM_CTL_PAGE_STATE), then reads the pages back in reverse order, each
 * read a fault served by the swap provider.  A handy stimulus for the
 * debug console: `break grant` in kdb, then run pagetest.
 */
#include <ferry/sys.h>
#include <stdio.h>
#include <thread.h>
#include <stdlib.h>
#include <string.h>

#define PAGE	4096UL

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

static long number(const char *s, long dflt)
{
	uint64_t v;
	const char *end;

	return str_to_u64(s, 0, &v, &end) == 0 && !*end ? (long)v : dflt;
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
	if (addr < 0)
		return 1;
	stuck_page = (volatile uint8_t *)addr;
	if (thread_start(stuck_toucher, NULL, stack, sizeof(stack)) < 0)
		return 1;
	for (;;)
		sys_sleep(1000000000);
}

int main(int argc, char **argv)
{
	long pages = argc > 1 ? number(argv[1], 64) : 64, bad = 0, out;
	uint8_t *base;

	if (argc > 1 && strcmp(argv[1], "stuck") == 0)
		return stuck();
	if (argc > 2) {
		int m = mode_number(argv[2]);

		if (m < 0 || sys_vm_ctl(VM_CTL_FAULTPATH_SET, m, 0) < 0) {
			printf("pagetest: cannot use fill mode '%s'\n", argv[2]);
			return 2;
		}
	}
	if (pages < 1 || pages > 4096)
		pages = 64;
	base = (uint8_t *)sys_mem_map(0, pages * PAGE, PROT_READ | PROT_WRITE);
	if ((long)base < 0) {
		printf("pagetest: mem_map: %s\n", err_str((long)base));
		return 1;
	}
	for (long i = 0; i < pages; i++)
		for (uint64_t w = 0; w < PAGE / 8; w += 64)
			((uint64_t *)(base + i * PAGE))[w] = pattern((uint64_t)i, w);
	out = sys_vm_ctl(VM_CTL_EVICT, pages * PAGE, base);
	printf("pagetest: %ld pages written, %ld paged out, %ld now in swap\n", pages, out,
	       count_state(base, pages, PAGE_SWAPPED));
	for (long i = pages - 1; i >= 0; i--)
		for (uint64_t w = 0; w < PAGE / 8; w += 64)
			bad += ((uint64_t *)(base + i * PAGE))[w] != pattern((uint64_t)i, w);
	printf("pagetest: %ld pages read back, %ld resident, %ld mismatches: %s\n", pages,
	       count_state(base, pages, PAGE_RESIDENT), bad, bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
