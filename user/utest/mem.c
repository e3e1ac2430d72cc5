// SPDX-License-Identifier: MIT
/* Anonymous memory: mapping, zero fill, rounding, unmapping. */
#include <ferry/sys.h>

#include "utest.h"

#define PAGE_SIZE	4096
#define MAP_LEN		(64 * 1024)

static uint8_t pattern(long i)
{
	return (uint8_t)(i * 13 + (i >> 12));
}

UTEST(mem_map_unmap)
{
	uint8_t *p;
	long i;

	p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, MAP_LEN, PROT_READ | PROT_WRITE));
	CHECK_EQ((uintptr_t)p % PAGE_SIZE, 0);
	for (i = 0; i < MAP_LEN; i++)
		CHECK_EQ(p[i], 0);
	for (i = 0; i < MAP_LEN; i++)
		p[i] = pattern(i);
	for (i = 0; i < MAP_LEN; i++)
		CHECK_EQ(p[i], pattern(i));
	CHECK_OK(sys_mem_unmap(p, MAP_LEN));
	/* Gone for the kernel too: it neither copies into it nor brings a
	 * page in (the region it found last must be forgotten, vm.c). */
	CHECK_EQ(sys_stats((struct sys_stats *)p), ERR_FAULT);

	/* Resident but read-only: the kernel writes into it no more than the
	 * program may (a user copy's one-walk check, vm.c). */
	p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, PAGE_SIZE, PROT_READ));
	CHECK_EQ(p[0], 0);
	CHECK_EQ(sys_stats((struct sys_stats *)p), ERR_FAULT);
	CHECK_EQ(p[0], 0);
	CHECK_OK(sys_mem_unmap(p, PAGE_SIZE));

	/* A length that is not a page multiple is rounded up: two pages here. */
	p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, PAGE_SIZE + 1, PROT_READ | PROT_WRITE));
	p[2 * PAGE_SIZE - 1] = 1;
	CHECK_EQ(p[2 * PAGE_SIZE - 1], 1);
	CHECK_OK(sys_mem_unmap(p, PAGE_SIZE + 1));
	return 0;
}
