// SPDX-License-Identifier: MIT
/*
 * Mounting: the superblock and the group descriptors are checked field by
 * field before anything else trusts them; from then on struct ext2_fs's
 * geometry is the truth, and every block number read from disk is checked
 * against it (ext2_block_ok) before it is used.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ext2_impl.h"

#define EXT2_ERROR_FS		0x0002
#define EXT2_COMPAT_RESIZE_INODE	0x0010

long ext2_corrupt(struct ext2_fs *fs, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("ext2: corrupt: %s\n", line);
	/* As Linux does: the superblock says so, and e2fsck will look. */
	if (!fs->errors && !fs->read_only) {
		fs->errors = true;
		fs->sb_dirty = true;
	}
	return ERR_IO;
}

long ext2_bread(struct ext2_fs *fs, uint32_t block, bool fresh, struct ext2_bh *bh)
{
	long err;

	bh->buf = NULL;
	if (block >= fs->blocks_count)
		return ext2_corrupt(fs, "block %u beyond the file system (%u blocks)", block,
				    fs->blocks_count);
	err = bcache_get(fs->bc, (uint64_t)block * fs->block_size, fs->block_size,
			 fresh && fs->block_size == BCACHE_CHUNK, &bh->buf, &bh->data);
	if (err == ERR_RANGE)
		return ext2_corrupt(fs, "block %u outside the partition", block);
	if (err)
		printf("ext2: reading block %u: %s\n", block, err_str(err));
	return err;
}

void ext2_bdirty(struct ext2_bh *bh)
{
	bcache_dirty(bh->buf);
}

void ext2_brelse(struct ext2_bh *bh)
{
	bcache_put(bh->buf);
	bh->buf = NULL;
}

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

/* Groups 0, 1 and powers of 3, 5 and 7 hold a superblock copy (sparse_super). */
static bool group_has_super(const struct ext2_fs *fs, uint32_t g)
{
	if (g <= 1 || !(fs->ro_compat & EXT2_RO_COMPAT_SPARSE_SUPER))
		return true;
	return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

bool ext2_block_ok(const struct ext2_fs *fs, uint32_t b)
{
	const struct ext2_group *gr;

	if (b < fs->first_data_block || b >= fs->blocks_count)
		return false;
	gr = &fs->groups[(b - fs->first_data_block) / fs->blocks_per_group];
	if (b < gr->meta_end || b == gr->d.bg_block_bitmap || b == gr->d.bg_inode_bitmap)
		return false;
	return b < gr->d.bg_inode_table || b - gr->d.bg_inode_table >= gr->itable_blocks;
}

long ext2_group_write(struct ext2_fs *fs, uint32_t g)
{
	uint32_t per_block = fs->block_size / sizeof(struct ext2_group_desc);
	struct ext2_bh bh;
	long err;

	err = ext2_bread(fs, fs->first_data_block + 1 + g / per_block, false, &bh);
	if (err)
		return err;
	memcpy(bh.data + (g % per_block) * sizeof(struct ext2_group_desc), &fs->groups[g].d,
	       sizeof(struct ext2_group_desc));
	ext2_bdirty(&bh);
	ext2_brelse(&bh);
	fs->sb_dirty = true;
	return 0;
}

/* The superblock's fields we rely on, or a logged reason to refuse it. */
static long check_super(struct ext2_fs *fs, const struct ext2_super *sb, uint64_t dev_bytes)
{
	uint64_t groups;

	if (sb->s_magic != EXT2_MAGIC) {
		printf("ext2: no ext2 file system (magic %#x, want %#x)\n", sb->s_magic,
		       EXT2_MAGIC);
		return ERR_INVAL;
	}
	if (sb->s_rev_level > 1) {
		printf("ext2: revision %u not supported\n", sb->s_rev_level);
		return ERR_INVAL;
	}
	if (sb->s_log_block_size > 2) {
		printf("ext2: block size 1024 << %u not supported (1, 2 or 4 KiB)\n",
		       sb->s_log_block_size);
		return ERR_INVAL;
	}
	fs->log_block_size = sb->s_log_block_size;
	fs->block_size = 1024u << sb->s_log_block_size;
	fs->incompat = sb->s_rev_level ? sb->s_feature_incompat : 0;
	fs->ro_compat = sb->s_rev_level ? sb->s_feature_ro_compat : 0;
	fs->compat = sb->s_rev_level ? sb->s_feature_compat : 0;
	if (fs->incompat & ~EXT2_INCOMPAT_SUPPORTED) {
		printf("ext2: incompatible features %#x not supported (journal recovery, extents,"
		       " 64bit, flex_bg, meta_bg... are ext3/ext4)\n",
		       fs->incompat & ~EXT2_INCOMPAT_SUPPORTED);
		return ERR_INVAL;
	}
	fs->blocks_count = sb->s_blocks_count;
	fs->first_data_block = sb->s_first_data_block;
	fs->blocks_per_group = sb->s_blocks_per_group;
	fs->inodes_count = sb->s_inodes_count;
	fs->inodes_per_group = sb->s_inodes_per_group;
	fs->inode_size = sb->s_rev_level ? sb->s_inode_size : EXT2_GOOD_OLD_INODE_SIZE;
	fs->first_ino = sb->s_rev_level ? sb->s_first_ino : EXT2_GOOD_OLD_FIRST_INO;
	if (fs->first_data_block != (fs->block_size == 1024 ? 1u : 0u))
		return ext2_corrupt(fs, "superblock: first data block %u with %u-byte blocks",
				    fs->first_data_block, fs->block_size);
	if (fs->blocks_count < 16 || (uint64_t)fs->blocks_count * fs->block_size > dev_bytes)
		return ext2_corrupt(fs, "superblock: %u blocks of %u bytes, partition has %llu bytes",
				    fs->blocks_count, fs->block_size, (unsigned long long)dev_bytes);
	if (fs->blocks_per_group < 8 || fs->blocks_per_group > 8 * fs->block_size ||
	    fs->blocks_per_group % 8)
		return ext2_corrupt(fs, "superblock: %u blocks per group", fs->blocks_per_group);
	if (fs->inode_size < EXT2_GOOD_OLD_INODE_SIZE || fs->inode_size > fs->block_size ||
	    (fs->inode_size & (fs->inode_size - 1)))
		return ext2_corrupt(fs, "superblock: inode size %u", fs->inode_size);
	if (fs->inodes_per_group == 0 || fs->inodes_per_group > 8 * fs->block_size ||
	    fs->inodes_per_group % (fs->block_size / fs->inode_size))
		return ext2_corrupt(fs, "superblock: %u inodes per group", fs->inodes_per_group);
	groups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) /
		 fs->blocks_per_group;
	if ((uint64_t)fs->inodes_count != groups * fs->inodes_per_group)
		return ext2_corrupt(fs, "superblock: %u inodes, but %llu groups of %u",
				    fs->inodes_count, (unsigned long long)groups,
				    fs->inodes_per_group);
	if (fs->first_ino <= EXT2_ROOT_INO || fs->first_ino >= fs->inodes_count)
		return ext2_corrupt(fs, "superblock: first inode %u", fs->first_ino);
	fs->ngroups = (uint32_t)groups;
	fs->gdt_blocks = (fs->ngroups * (uint32_t)sizeof(struct ext2_group_desc) +
			  fs->block_size - 1) / fs->block_size;
	fs->reserved_gdt_blocks = (fs->compat & EXT2_COMPAT_RESIZE_INODE)
					  ? sb->s_reserved_gdt_blocks : 0;
	if (1 + fs->gdt_blocks + fs->reserved_gdt_blocks >= fs->blocks_per_group)
		return ext2_corrupt(fs, "superblock: %u + %u descriptor blocks do not fit a group",
				    fs->gdt_blocks, fs->reserved_gdt_blocks);
	fs->ptrs_per_block = fs->block_size / 4;
	fs->r_blocks = sb->s_r_blocks_count;
	fs->want_extra_isize = fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE ? 32 : 0;
	if (sb->s_want_extra_isize >= 4 &&
	    sb->s_want_extra_isize <= fs->inode_size - EXT2_GOOD_OLD_INODE_SIZE &&
	    !(sb->s_want_extra_isize & 3))
		fs->want_extra_isize = sb->s_want_extra_isize;
	fs->now = sb->s_wtime ? sb->s_wtime : sb->s_mkfs_time;
	memcpy(fs->label, sb->s_volume_name, 16);
	fs->label[16] = '\0';
	memcpy(fs->uuid, sb->s_uuid, sizeof(fs->uuid));
	return 0;
}

/* One descriptor: its bitmaps and inode table inside its own group, apart. */
static long check_group(struct ext2_fs *fs, uint32_t g)
{
	struct ext2_group *gr = &fs->groups[g];
	const struct ext2_group_desc *d = &gr->d;
	uint32_t end, it = d->bg_inode_table;

	gr->first = fs->first_data_block + g * fs->blocks_per_group;
	end = fs->blocks_count - gr->first < fs->blocks_per_group
		      ? fs->blocks_count : gr->first + fs->blocks_per_group;
	gr->nblocks = end - gr->first;
	gr->meta_end = gr->first;
	if (group_has_super(fs, g))
		gr->meta_end += 1 + fs->gdt_blocks + fs->reserved_gdt_blocks;
	gr->itable_blocks = fs->inodes_per_group * fs->inode_size / fs->block_size;
	if (d->bg_block_bitmap < gr->meta_end || d->bg_block_bitmap >= end ||
	    d->bg_inode_bitmap < gr->meta_end || d->bg_inode_bitmap >= end ||
	    d->bg_block_bitmap == d->bg_inode_bitmap)
		return ext2_corrupt(fs, "group %u: bitmaps at blocks %u and %u (group is %u..%u)",
				    g, d->bg_block_bitmap, d->bg_inode_bitmap, gr->meta_end,
				    end - 1);
	if (it < gr->meta_end || it >= end || end - it < gr->itable_blocks ||
	    (d->bg_block_bitmap >= it && d->bg_block_bitmap - it < gr->itable_blocks) ||
	    (d->bg_inode_bitmap >= it && d->bg_inode_bitmap - it < gr->itable_blocks))
		return ext2_corrupt(fs, "group %u: inode table at block %u (%u blocks) out of place",
				    g, it, gr->itable_blocks);
	if (d->bg_free_blocks_count > gr->nblocks || d->bg_free_inodes_count > fs->inodes_per_group ||
	    d->bg_used_dirs_count > fs->inodes_per_group)
		return ext2_corrupt(fs, "group %u: counts %u free blocks, %u free inodes, %u dirs",
				    g, d->bg_free_blocks_count, d->bg_free_inodes_count,
				    d->bg_used_dirs_count);
	return 0;
}

static long read_groups(struct ext2_fs *fs)
{
	uint32_t per_block = fs->block_size / sizeof(struct ext2_group_desc);
	uint64_t free_blocks = 0, free_inodes = 0;
	struct ext2_bh bh;
	long err;

	for (uint32_t g = 0; g < fs->ngroups; g++) {
		err = ext2_bread(fs, fs->first_data_block + 1 + g / per_block, false, &bh);
		if (err)
			return err;
		memcpy(&fs->groups[g].d, bh.data + (g % per_block) * sizeof(struct ext2_group_desc),
		       sizeof(struct ext2_group_desc));
		ext2_brelse(&bh);
		err = check_group(fs, g);
		if (err)
			return err;
		free_blocks += fs->groups[g].d.bg_free_blocks_count;
		free_inodes += fs->groups[g].d.bg_free_inodes_count;
	}
	fs->free_blocks = (uint32_t)free_blocks;
	fs->free_inodes = (uint32_t)free_inodes;
	return 0;
}

long ext2_mount(struct ext2_fs *fs, struct bcache *bc, uint64_t dev_bytes, bool want_rw,
		struct ext2_group *groups, uint32_t max_groups)
{
	struct ext2_super sb;
	struct bcache_buf *b;
	uint8_t *p;
	long err;

	memset(fs, 0, sizeof(*fs));
	fs->read_only = true;	/* until it is mounted: nothing is written before */
	fs->bc = bc;
	fs->dev_bytes = dev_bytes;
	fs->groups = groups;
	if (dev_bytes < EXT2_SB_OFFSET + sizeof(sb)) {
		printf("ext2: partition of %llu bytes is too small\n", (unsigned long long)dev_bytes);
		return ERR_INVAL;
	}
	err = bcache_get(bc, EXT2_SB_OFFSET, sizeof(sb), false, &b, &p);
	if (err) {
		printf("ext2: reading the superblock: %s\n", err_str(err));
		return err;
	}
	memcpy(&sb, p, sizeof(sb));
	bcache_put(b);
	err = check_super(fs, &sb, dev_bytes);
	if (err)
		return err;
	if (fs->ngroups > max_groups) {
		printf("ext2: %u groups, room for %u\n", fs->ngroups, max_groups);
		return ERR_RANGE;
	}
	err = read_groups(fs);
	if (err)
		return err;
	fs->read_only = !want_rw;
	fs->errors = false;
	if (fs->ro_compat & ~EXT2_RO_COMPAT_SUPPORTED) {
		printf("ext2: read-only compatible features %#x not supported: mounted read-only\n",
		       fs->ro_compat & ~EXT2_RO_COMPAT_SUPPORTED);
		fs->read_only = true;
	}
	if (sb.s_state & EXT2_ERROR_FS) {
		printf("ext2: file system has errors (run e2fsck): mounted read-only\n");
		fs->read_only = true;
	} else if (!(sb.s_state & EXT2_VALID_FS)) {
		printf("ext2: file system was not cleanly unmounted; e2fsck is recommended\n");
	}
	if (fs->free_blocks != sb.s_free_blocks_count || fs->free_inodes != sb.s_free_inodes_count)
		fs->sb_dirty = !fs->read_only;	/* the groups are right: say so on first sync */
	return 0;
}

static long write_super(struct ext2_fs *fs)
{
	struct ext2_super *sb;
	struct bcache_buf *b;
	uint8_t *p;
	long err;

	err = bcache_get(fs->bc, EXT2_SB_OFFSET, sizeof(*sb), false, &b, &p);
	if (err)
		return err;
	sb = (struct ext2_super *)p;
	if (fs->errors)
		sb->s_state |= EXT2_ERROR_FS;
	sb->s_free_blocks_count = fs->free_blocks;
	sb->s_free_inodes_count = fs->free_inodes;
	if (sb->s_rev_level)
		sb->s_feature_ro_compat = fs->ro_compat;
	bcache_dirty(b);
	bcache_put(b);
	fs->sb_dirty = false;
	return 0;
}

long ext2_sync(struct ext2_fs *fs)
{
	long err = 0;

	if (fs->sb_dirty && !fs->read_only)
		err = write_super(fs);
	if (!err)
		err = bcache_flush(fs->bc);
	if (err)
		printf("ext2: writing back: %s\n", err_str(err));
	return err;
}

void ext2_statfs(const struct ext2_fs *fs, struct ext2_statfs *out)
{
	out->block_size = fs->block_size;
	out->blocks = fs->blocks_count;
	out->free_blocks = fs->free_blocks;
	out->inodes = fs->inodes_count;
	out->free_inodes = fs->free_inodes;
	out->read_only = fs->read_only;
}
