// SPDX-License-Identifier: MIT
#include "swapmap.h"

size_t swapmap_words(uint64_t nslots)
{
	return (size_t)((nslots + 63) / 64);
}

void swapmap_init(struct swapmap *m, uint64_t *bits, uint64_t nslots)
{
	m->bits = bits;
	m->nslots = nslots;
	m->used = m->bad = m->hint = 0;
	for (size_t i = 0; i < swapmap_words(nslots); i++)
		bits[i] = 0;
}

bool swapmap_in_use(const struct swapmap *m, uint64_t slot)
{
	return slot < m->nslots && (m->bits[slot / 64] >> (slot % 64)) & 1;
}

static void set_bit(struct swapmap *m, uint64_t slot, bool on)
{
	if (on)
		m->bits[slot / 64] |= 1ULL << (slot % 64);
	else
		m->bits[slot / 64] &= ~(1ULL << (slot % 64));
}

/* First run of n free slots at or after `from`; UINT64_MAX if none. */
static uint64_t find_run(const struct swapmap *m, uint64_t from, unsigned n)
{
	uint64_t run = 0;

	for (uint64_t s = from; s < m->nslots; s++) {
		if (swapmap_in_use(m, s)) {
			run = 0;
			continue;
		}
		if (++run == n)
			return s + 1 - n;
	}
	return UINT64_MAX;
}

int swapmap_alloc(struct swapmap *m, unsigned n, uint64_t *first)
{
	uint64_t at;

	if (n == 0 || m->nslots - m->used < n)
		return -1;
	at = find_run(m, m->hint, n);
	if (at == UINT64_MAX)
		at = find_run(m, 0, n);
	if (at == UINT64_MAX)
		return -1;
	for (unsigned i = 0; i < n; i++)
		set_bit(m, at + i, true);
	m->used += n;
	m->hint = at + n;
	*first = at;
	return 0;
}

int swapmap_free(struct swapmap *m, uint64_t slot)
{
	if (!swapmap_in_use(m, slot))
		return -1;
	set_bit(m, slot, false);
	m->used--;
	return 0;
}

int swapmap_mark_bad(struct swapmap *m, uint64_t slot)
{
	if (!swapmap_in_use(m, slot))
		return -1;
	m->bad++;	/* stays in use: never handed out again */
	return 0;
}
