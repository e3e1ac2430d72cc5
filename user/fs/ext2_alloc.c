// SPDX-License-Identifier: MIT
/*
 * Block and inode allocation.  A change of one bitmap bit always goes
 * with the group descriptor's count and the superblock's count, in the
 * same operation.  A bitmap that contradicts the layout (a metadata block
 * marked free, a count that promises a free bit that is not there) is
 * corruption: logged, and that block or group is skipped.
 */
#include <stdio.h>

#include "ext2_impl.h"

static bool bit_test(const uint8_t *map, uint32_t bit)
{
	return map[bit / 8] & (1u << (bit % 8));
}

static void bit_set(uint8_t *map, uint32_t bit, bool on)
{
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

/* First clear bit in [from, n), then in [0, from); => bit or n if none. */
static uint32_t find_clear(const uint8_t *map, uint32_t n, uint32_t from)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t bit = (from + i) % n;

		if ((bit % 8) == 0 && map[bit / 8] == 0xFF && bit + 8 <= n) {
			i += 7;	/* whole byte taken; wrap-around stays correct as n % 8 == 0 */
			continue;
		}
		if (!bit_test(map, bit))
			return bit;
	}
	return n;
}

/* One group: a free block at or after `from` (wrapping), or ERR_NOSPC. */
static long balloc_group(struct ext2_fs *fs, uint32_t g, uint32_t from, uint32_t *block)
{
	struct ext2_group *gr = &fs->groups[g];
	struct ext2_bh bh;
	long err;

	err = ext2_bread(fs, gr->d.bg_block_bitmap, false, &bh);
	if (err)
		return err;
	for (uint32_t tries = 0; tries < gr->nblocks; tries++) {
		uint32_t bit = find_clear(bh.data, gr->nblocks, from);

		if (bit == gr->nblocks)
			break;
		if (!ext2_block_ok(fs, gr->first + bit)) {
			ext2_corrupt(fs, "group %u: metadata block %u marked free", g,
				     gr->first + bit);
			bit_set(bh.data, bit, true);	/* in memory only, to move on */
			from = bit;
			continue;
		}
		bit_set(bh.data, bit, true);
		ext2_bdirty(&bh);
		ext2_brelse(&bh);
		gr->d.bg_free_blocks_count--;
		fs->free_blocks--;
		*block = gr->first + bit;
		return ext2_group_write(fs, g);
	}
	ext2_brelse(&bh);
	ext2_corrupt(fs, "group %u: %u blocks counted free, none in the bitmap", g,
		     gr->d.bg_free_blocks_count);
	return ERR_NOSPC;
}

long ext2_balloc(struct ext2_fs *fs, uint32_t goal, uint32_t *block)
{
	uint32_t g0 = 0, from = 0;

	if (fs->read_only)
		return ERR_ROFS;
	if (goal >= fs->first_data_block && goal < fs->blocks_count) {
		g0 = (goal - fs->first_data_block) / fs->blocks_per_group;
		from = goal - fs->groups[g0].first;
	}
	for (uint32_t i = 0; i < fs->ngroups; i++) {
		uint32_t g = (g0 + i) % fs->ngroups;
		long err;

		if (fs->groups[g].d.bg_free_blocks_count == 0)
			continue;
		err = balloc_group(fs, g, i == 0 ? from : 0, block);
		if (err != ERR_NOSPC)
			return err;
	}
	return ERR_NOSPC;
}

long ext2_block_used(struct ext2_fs *fs, uint32_t block)
{
	struct ext2_group *gr;
	struct ext2_bh bh;
	long used;
	long err;

	if (!ext2_block_ok(fs, block))
		return 0;
	gr = &fs->groups[(block - fs->first_data_block) / fs->blocks_per_group];
	err = ext2_bread(fs, gr->d.bg_block_bitmap, false, &bh);
	if (err)
		return err;
	used = bit_test(bh.data, block - gr->first) ? 1 : 0;
	ext2_brelse(&bh);
	return used;
}

long ext2_bfree(struct ext2_fs *fs, uint32_t block)
{
	struct ext2_group *gr;
	struct ext2_bh bh;
	uint32_t g, bit;
	long err;

	if (!ext2_block_ok(fs, block))
		return ext2_corrupt(fs, "freeing block %u, not a data block", block);
	g = (block - fs->first_data_block) / fs->blocks_per_group;
	gr = &fs->groups[g];
	bit = block - gr->first;
	err = ext2_bread(fs, gr->d.bg_block_bitmap, false, &bh);
	if (err)
		return err;
	if (!bit_test(bh.data, bit)) {
		ext2_brelse(&bh);
		return ext2_corrupt(fs, "block %u freed but not in use (shared by two owners?)",
				    block);
	}
	bit_set(bh.data, bit, false);
	ext2_bdirty(&bh);
	ext2_brelse(&bh);
	gr->d.bg_free_blocks_count++;
	fs->free_blocks++;
	return ext2_group_write(fs, g);
}

/* Directories spread out (fewest directories among groups with room), files stay near. */
static uint32_t pick_group(const struct ext2_fs *fs, uint32_t parent, bool dir)
{
	uint32_t pg = (parent - 1) / fs->inodes_per_group, best = fs->ngroups;

	if (!dir)
		return pg < fs->ngroups ? pg : 0;
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		const struct ext2_group_desc *d = &fs->groups[g].d;

		if (d->bg_free_inodes_count == 0 ||
		    (uint64_t)d->bg_free_blocks_count * fs->ngroups < fs->free_blocks)
			continue;
		if (best == fs->ngroups || d->bg_used_dirs_count < fs->groups[best].d.bg_used_dirs_count)
			best = g;
	}
	return best < fs->ngroups ? best : 0;
}

static long ialloc_group(struct ext2_fs *fs, uint32_t g, bool dir, uint32_t *ino)
{
	struct ext2_group *gr = &fs->groups[g];
	uint32_t base = g * fs->inodes_per_group, from = 0;
	struct ext2_bh bh;
	long err;

	if (base + 1 < fs->first_ino)
		from = fs->first_ino - 1 - base;	/* reserved inodes: never ours */
	if (from >= fs->inodes_per_group)
		return ERR_NOSPC;
	err = ext2_bread(fs, gr->d.bg_inode_bitmap, false, &bh);
	if (err)
		return err;
	for (uint32_t bit = from; bit < fs->inodes_per_group; bit++) {
		if (bit_test(bh.data, bit))
			continue;
		bit_set(bh.data, bit, true);
		ext2_bdirty(&bh);
		ext2_brelse(&bh);
		gr->d.bg_free_inodes_count--;
		if (dir)
			gr->d.bg_used_dirs_count++;
		fs->free_inodes--;
		*ino = base + bit + 1;
		return ext2_group_write(fs, g);
	}
	ext2_brelse(&bh);
	ext2_corrupt(fs, "group %u: %u inodes counted free, none in the bitmap", g,
		     gr->d.bg_free_inodes_count);
	return ERR_NOSPC;
}

long ext2_ialloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *ino)
{
	uint32_t g0;

	if (fs->read_only)
		return ERR_ROFS;
	g0 = pick_group(fs, parent, dir);
	for (uint32_t i = 0; i < fs->ngroups; i++) {
		uint32_t g = (g0 + i) % fs->ngroups;
		long err;

		if (fs->groups[g].d.bg_free_inodes_count == 0)
			continue;
		err = ialloc_group(fs, g, dir, ino);
		if (err != ERR_NOSPC)
			return err;
	}
	return ERR_NOSPC;
}

long ext2_ifree(struct ext2_fs *fs, uint32_t ino, bool dir)
{
	uint32_t g = (ino - 1) / fs->inodes_per_group, bit = (ino - 1) % fs->inodes_per_group;
	struct ext2_group *gr = &fs->groups[g];
	struct ext2_bh bh;
	long err;

	if (ino < fs->first_ino || ino > fs->inodes_count)
		return ext2_corrupt(fs, "freeing inode %u, not an ordinary inode", ino);
	err = ext2_bread(fs, gr->d.bg_inode_bitmap, false, &bh);
	if (err)
		return err;
	if (!bit_test(bh.data, bit)) {
		ext2_brelse(&bh);
		return ext2_corrupt(fs, "inode %u freed but not in use", ino);
	}
	bit_set(bh.data, bit, false);
	ext2_bdirty(&bh);
	ext2_brelse(&bh);
	gr->d.bg_free_inodes_count++;
	if (dir && gr->d.bg_used_dirs_count)
		gr->d.bg_used_dirs_count--;
	fs->free_inodes++;
	return ext2_group_write(fs, g);
}
