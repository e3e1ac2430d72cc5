// SPDX-License-Identifier: MIT
/*
 * Directories: blocks of variable-length entries, each block checked as a
 * whole (every rec_len and name_len inside it, the chain ending exactly at
 * the block's end) before any entry in it is used.  Entries are added
 * first-fit, into a free entry or the slack of a live one, else into a new
 * block; removed by merging into the previous entry.
 *
 * Hashed (dir_index) directories read like linear ones: their index
 * blocks look like empty entries.  We do not keep the index up to date, so
 * a directory we change loses EXT2_INDEX_FL, which leaves it valid.
 */
#include <string.h>

#include "ext2_impl.h"

static uint32_t ent_name_len(const struct ext2_fs *fs, const struct ext2_dir_entry *e)
{
	if (fs->incompat & EXT2_INCOMPAT_FILETYPE)
		return e->name_len;
	return e->name_len | (uint32_t)e->file_type << 8;
}

static uint8_t ftype_of(const struct ext2_fs *fs, uint16_t mode)
{
	static const uint8_t by_type[16] = {
		[1] = 5, [2] = 3, [4] = EXT2_FT_DIR, [6] = 4, [8] = EXT2_FT_REG, [10] = 7, [12] = 6,
	};

	return (fs->incompat & EXT2_INCOMPAT_FILETYPE) ? by_type[mode >> 12] : 0;
}

static long check_block(struct ext2_fs *fs, uint32_t dir, uint64_t idx, const uint8_t *data)
{
	uint32_t off = 0;

	while (off < fs->block_size) {
		const struct ext2_dir_entry *e = (const void *)(data + off);
		uint32_t nl;

		if (fs->block_size - off < 8)
			return ext2_corrupt(fs, "directory %u block %llu: entry at %u cut short", dir,
					    (unsigned long long)idx, off);
		nl = ent_name_len(fs, e);
		if (e->rec_len < 8 || e->rec_len % 4 || e->rec_len > fs->block_size - off ||
		    nl + 8 > e->rec_len)
			return ext2_corrupt(fs, "directory %u block %llu: entry at %u has rec_len %u,"
					    " name_len %u", dir, (unsigned long long)idx, off,
					    e->rec_len, nl);
		if (e->inode && (e->inode > fs->inodes_count || nl == 0 ||
				 memchr(e->name, '/', nl) || memchr(e->name, '\0', nl)))
			return ext2_corrupt(fs, "directory %u block %llu: entry at %u (inode %u) is"
					    " malformed", dir, (unsigned long long)idx, off, e->inode);
		off += e->rec_len;
	}
	return 0;
}

static long get_dir(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din)
{
	long err = ext2_iget(fs, dir, din);

	if (err)
		return err;
	if (din->i_links_count == 0)
		return ERR_NOENT;
	return ext2_is_dir(din) ? 0 : ERR_INVAL;
}

/* Block idx of the directory, held and checked. */
static long dir_block(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, uint64_t idx,
		      struct ext2_bh *bh)
{
	uint32_t b;
	long err = ext2_bmap(fs, dir, din, idx, false, &b);

	if (err)
		return err;
	if (!b)
		return ext2_corrupt(fs, "directory %u has a hole at block %llu", dir,
				    (unsigned long long)idx);
	err = ext2_bread(fs, b, false, bh);
	if (err)
		return err;
	err = check_block(fs, dir, idx, bh->data);
	if (err)
		ext2_brelse(bh);
	return err;
}

static bool name_is(const struct ext2_fs *fs, const struct ext2_dir_entry *e, const char *name,
		    size_t len)
{
	return e->inode && ent_name_len(fs, e) == len && memcmp(e->name, name, len) == 0;
}

/* Where an entry is: its block (held), offset and the previous entry's offset (or -1). */
struct dir_slot {
	struct ext2_bh bh;
	uint32_t off;
	int64_t prev;
};

static long locate(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, const char *name,
		   size_t len, struct dir_slot *s)
{
	uint64_t nblocks = din->i_size / fs->block_size;

	for (uint64_t idx = 0; idx < nblocks; idx++) {
		long err = dir_block(fs, dir, din, idx, &s->bh);

		if (err)
			return err;
		s->prev = -1;
		for (s->off = 0; s->off < fs->block_size;) {
			const struct ext2_dir_entry *e = (const void *)(s->bh.data + s->off);

			if (name_is(fs, e, name, len))
				return 0;
			s->prev = s->off;
			s->off += e->rec_len;
		}
		ext2_brelse(&s->bh);
	}
	return ERR_NOENT;
}

long ext2_dir_find(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino)
{
	struct ext2_inode din;
	struct dir_slot s;
	long err = get_dir(fs, dir, &din);

	if (!err)
		err = locate(fs, dir, &din, name, len, &s);
	if (err)
		return err;
	*ino = ((const struct ext2_dir_entry *)(s.bh.data + s.off))->inode;
	ext2_brelse(&s.bh);
	return 0;
}

static void fill_entry(const struct ext2_fs *fs, struct ext2_dir_entry *e, const char *name,
		       size_t len, uint32_t ino, uint16_t mode)
{
	e->inode = ino;
	e->name_len = (uint8_t)len;
	e->file_type = ftype_of(fs, mode);
	memcpy(e->name, name, len);
}

/* A changed directory keeps no (now stale) hash index. */
static long dir_changed(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din)
{
	din->i_flags &= ~EXT2_INDEX_FL;
	din->i_mtime = din->i_ctime = fs->now;
	return ext2_iput(fs, dir, din);
}

/* Room for `need` bytes in this block: a free entry or a live one's slack. */
static bool place_in_block(const struct ext2_fs *fs, uint8_t *data, const char *name, size_t len,
			   uint32_t ino, uint16_t mode)
{
	uint32_t need = EXT2_DIR_REC_LEN(len);

	for (uint32_t off = 0; off < fs->block_size;) {
		struct ext2_dir_entry *e = (void *)(data + off);
		uint32_t used = e->inode ? EXT2_DIR_REC_LEN(ent_name_len(fs, e)) : 0;

		if (e->rec_len - used >= need) {
			if (used) {
				struct ext2_dir_entry *n = (void *)(data + off + used);

				n->rec_len = (uint16_t)(e->rec_len - used);
				e->rec_len = (uint16_t)used;
				e = n;
			}
			fill_entry(fs, e, name, len, ino, mode);
			return true;
		}
		off += e->rec_len;
	}
	return false;
}

long ext2_dir_add(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
		  uint16_t mode)
{
	struct ext2_inode din;
	struct ext2_bh bh;
	uint64_t nblocks, idx;
	struct ext2_dir_entry *e;
	uint32_t b;
	long err = get_dir(fs, dir, &din);

	if (err)
		return err;
	if (fs->read_only)
		return ERR_ROFS;
	nblocks = din.i_size / fs->block_size;
	for (idx = 0; idx < nblocks; idx++) {
		bool placed;

		err = dir_block(fs, dir, &din, idx, &bh);
		if (err)
			return err;
		placed = place_in_block(fs, bh.data, name, len, ino, mode);
		if (placed)
			ext2_bdirty(&bh);
		ext2_brelse(&bh);
		if (placed)
			return dir_changed(fs, dir, &din);
	}
	if ((uint64_t)din.i_size + fs->block_size > 0x7FFFFFFF)
		return ERR_NOSPC;
	/* A new block (zeroed by the allocation) with one entry spanning it. */
	err = ext2_bmap(fs, dir, &din, idx, true, &b);
	if (!err)
		err = ext2_bread(fs, b, false, &bh);
	if (err) {
		ext2_iput(fs, dir, &din);	/* keep i_blocks right if a block came */
		return err;
	}
	e = (void *)bh.data;
	e->rec_len = (uint16_t)fs->block_size;
	fill_entry(fs, e, name, len, ino, mode);
	ext2_bdirty(&bh);
	ext2_brelse(&bh);
	din.i_size += fs->block_size;
	return dir_changed(fs, dir, &din);
}

/* The entry `name` of dir, for a change: the directory must be writable. */
static long locate_for_change(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len,
			      struct ext2_inode *din, struct dir_slot *s)
{
	long err = get_dir(fs, dir, din);

	if (!err && fs->read_only)
		err = ERR_ROFS;
	if (!err)
		err = locate(fs, dir, din, name, len, s);
	return err;
}

long ext2_dir_remove(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len)
{
	struct ext2_inode din;
	struct ext2_dir_entry *e;
	struct dir_slot s;
	long err = locate_for_change(fs, dir, name, len, &din, &s);

	if (err)
		return err;
	e = (void *)(s.bh.data + s.off);
	if (s.prev >= 0)
		((struct ext2_dir_entry *)(s.bh.data + s.prev))->rec_len += e->rec_len;
	else
		e->inode = 0;
	ext2_bdirty(&s.bh);
	ext2_brelse(&s.bh);
	return dir_changed(fs, dir, &din);
}

long ext2_dir_retarget(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len,
		       uint32_t ino, uint16_t mode)
{
	struct ext2_inode din;
	struct ext2_dir_entry *e;
	struct dir_slot s;
	long err = locate_for_change(fs, dir, name, len, &din, &s);

	if (err)
		return err;
	e = (void *)(s.bh.data + s.off);
	e->inode = ino;
	e->file_type = ftype_of(fs, mode);
	if (!(fs->incompat & EXT2_INCOMPAT_FILETYPE))
		e->file_type = 0;	/* the high byte of name_len, which is < 256 */
	ext2_bdirty(&s.bh);
	ext2_brelse(&s.bh);
	return dir_changed(fs, dir, &din);
}

long ext2_dir_is_empty(struct ext2_fs *fs, uint32_t dir)
{
	struct ext2_inode din;
	uint64_t nblocks;
	long err = get_dir(fs, dir, &din);

	if (err)
		return err;
	nblocks = din.i_size / fs->block_size;
	for (uint64_t idx = 0; idx < nblocks; idx++) {
		struct ext2_bh bh;
		bool empty = true;

		err = dir_block(fs, dir, &din, idx, &bh);
		if (err)
			return err;
		for (uint32_t off = 0; off < fs->block_size && empty;) {
			const struct ext2_dir_entry *e = (const void *)(bh.data + off);

			empty = !e->inode || name_is(fs, e, ".", 1) || name_is(fs, e, "..", 2);
			off += e->rec_len;
		}
		ext2_brelse(&bh);
		if (!empty)
			return 0;
	}
	return 1;
}

long ext2_dir_init(struct ext2_fs *fs, uint32_t dir, uint32_t parent)
{
	struct ext2_inode din;
	struct ext2_dir_entry *e;
	struct ext2_bh bh;
	uint32_t b;
	long err = ext2_iget(fs, dir, &din);

	if (!err)
		err = ext2_bmap(fs, dir, &din, 0, true, &b);
	if (!err)
		err = ext2_bread(fs, b, false, &bh);
	if (err) {
		ext2_iput(fs, dir, &din);
		return err;
	}
	e = (void *)bh.data;
	e->rec_len = 12;
	fill_entry(fs, e, ".", 1, dir, EXT2_S_IFDIR);
	e = (void *)(bh.data + 12);
	e->rec_len = (uint16_t)(fs->block_size - 12);
	fill_entry(fs, e, "..", 2, parent, EXT2_S_IFDIR);
	ext2_bdirty(&bh);
	ext2_brelse(&bh);
	din.i_size = fs->block_size;
	return ext2_iput(fs, dir, &din);
}

static uint8_t type_of_ftype(const struct ext2_fs *fs, uint8_t ft)
{
	static const uint8_t types[EXT2_FT_MAX + 1] = {
		[1] = EXT2_TYPE_REG, [2] = EXT2_TYPE_DIR, [3] = EXT2_TYPE_CHR, [4] = EXT2_TYPE_BLK,
		[5] = EXT2_TYPE_FIFO, [6] = EXT2_TYPE_SOCK, [7] = EXT2_TYPE_LNK,
	};

	if (!(fs->incompat & EXT2_INCOMPAT_FILETYPE) || ft > EXT2_FT_MAX)
		return 0;
	return types[ft];
}

long ext2_readdir(struct ext2_fs *fs, uint32_t dir, uint64_t *cookie, struct ext2_dirent *out)
{
	struct ext2_inode din;
	uint64_t nblocks;
	long err = get_dir(fs, dir, &din);

	if (err)
		return err;
	nblocks = din.i_size / fs->block_size;
	for (uint64_t idx = *cookie / fs->block_size; idx < nblocks; idx++) {
		uint32_t from = idx == *cookie / fs->block_size ? *cookie % fs->block_size : 0;
		struct ext2_bh bh;

		err = dir_block(fs, dir, &din, idx, &bh);
		if (err)
			return err;
		for (uint32_t off = 0; off < fs->block_size;) {
			const struct ext2_dir_entry *e = (const void *)(bh.data + off);
			uint32_t nl = ent_name_len(fs, e);

			off += e->rec_len;
			if (off - e->rec_len < from || !e->inode || nl > EXT2_NAME_MAX)
				continue;
			out->ino = e->inode;
			out->type = type_of_ftype(fs, e->file_type);
			out->name_len = (uint8_t)nl;
			memcpy(out->name, e->name, nl);
			out->name[nl] = '\0';
			*cookie = idx * fs->block_size + off;
			ext2_brelse(&bh);
			return 1;
		}
		ext2_brelse(&bh);
	}
	*cookie = nblocks * fs->block_size;
	return 0;
}
