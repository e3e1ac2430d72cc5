// SPDX-License-Identifier: MIT
/*
 * Inodes and the blocks of a file: reading and writing inode records,
 * mapping a file block to a disk block through up to three levels of
 * indirect blocks, growing and shrinking files, and file reads and writes.
 *
 * Indirect blocks form a tree of fixed depth, so walking one always ends;
 * a pointer is used only if it is a data block of the file system
 * (ext2_block_ok) and not one of the blocks above it on its own path,
 * which is the one loop a tree of fixed depth can still have.
 */
#include <stdio.h>
#include <string.h>

#include "ext2_impl.h"

#define MAX_DEPTH	4

static uint32_t sectors_per_block(const struct ext2_fs *fs)
{
	return fs->block_size / 512;
}

bool ext2_is_dir(const struct ext2_inode *in)
{
	return (in->i_mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
}

bool ext2_is_reg(const struct ext2_inode *in)
{
	return (in->i_mode & EXT2_S_IFMT) == EXT2_S_IFREG;
}

/* Does i_block hold block numbers (not a device number or a short symlink)? */
static bool has_blocks(const struct ext2_fs *fs, const struct ext2_inode *in)
{
	if (ext2_is_reg(in) || ext2_is_dir(in))
		return true;
	if ((in->i_mode & EXT2_S_IFMT) != EXT2_S_IFLNK)
		return false;
	return in->i_blocks != (in->i_file_acl ? sectors_per_block(fs) : 0);
}

static long inode_offset(struct ext2_fs *fs, uint32_t ino, uint64_t *off)
{
	uint32_t g, idx;

	if (ino == 0 || ino > fs->inodes_count)
		return ext2_corrupt(fs, "inode number %u out of range (1..%u)", ino,
				    fs->inodes_count);
	g = (ino - 1) / fs->inodes_per_group;
	idx = (ino - 1) % fs->inodes_per_group;
	*off = (uint64_t)fs->groups[g].d.bg_inode_table * fs->block_size +
	       (uint64_t)idx * fs->inode_size;
	return 0;
}

/* A live inode's fields that the rest of the code relies on. */
static long check_inode(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
	uint16_t type = in->i_mode & EXT2_S_IFMT;

	if (in->i_links_count == 0)
		return 0;	/* free: nothing to check, nothing to trust */
	if (type != EXT2_S_IFREG && type != EXT2_S_IFDIR && type != EXT2_S_IFLNK &&
	    type != 0x1000 && type != 0x2000 && type != 0x6000 && type != 0xC000)
		return ext2_corrupt(fs, "inode %u: mode %#o", ino, in->i_mode);
	if (in->i_flags & EXT2_UNSUPPORTED_FL)
		return ext2_corrupt(fs, "inode %u: flags %#x (extents or inline data: not ext2)",
				    ino, in->i_flags);
	if (type == EXT2_S_IFDIR && (in->i_size % fs->block_size || in->i_size_high))
		return ext2_corrupt(fs, "directory %u: size %u is not whole blocks", ino,
				    in->i_size);
	if (in->i_file_acl && !ext2_block_ok(fs, in->i_file_acl))
		return ext2_corrupt(fs, "inode %u: attribute block %u", ino, in->i_file_acl);
	return 0;
}

long ext2_iget(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	struct bcache_buf *b;
	uint8_t *p;
	uint64_t off;
	long err = inode_offset(fs, ino, &off);

	if (err)
		return err;
	err = bcache_get(fs->bc, off, sizeof(*in), false, &b, &p);
	if (err)
		return err == ERR_RANGE ? ext2_corrupt(fs, "inode %u outside the partition", ino)
					: err;
	memcpy(in, p, sizeof(*in));
	bcache_put(b);
	return check_inode(fs, ino, in);
}

long ext2_iput(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
	struct bcache_buf *b;
	uint8_t *p;
	uint64_t off;
	long err = inode_offset(fs, ino, &off);

	if (err)
		return err;
	if (fs->read_only)
		return ERR_ROFS;
	err = bcache_get(fs->bc, off, sizeof(*in), false, &b, &p);
	if (err)
		return err;
	memcpy(p, in, sizeof(*in));
	bcache_dirty(b);
	bcache_put(b);
	return 0;
}

long ext2_inew(struct ext2_fs *fs, uint32_t ino, uint16_t mode, struct ext2_inode *in)
{
	struct bcache_buf *b;
	uint8_t *p;
	uint64_t off;
	uint32_t gen;
	long err = inode_offset(fs, ino, &off);

	if (err)
		return err;
	err = bcache_get(fs->bc, off, fs->inode_size, false, &b, &p);
	if (err)
		return err;
	memcpy(&gen, p + __builtin_offsetof(struct ext2_inode, i_generation), sizeof(gen));
	memset(p, 0, fs->inode_size);
	memset(in, 0, sizeof(*in));
	in->i_mode = mode;
	in->i_generation = gen + 1;	/* handles to the inode's last life go stale */
	in->i_atime = in->i_ctime = in->i_mtime = fs->now;
	memcpy(p, in, sizeof(*in));
	if (fs->want_extra_isize)
		memcpy(p + EXT2_GOOD_OLD_INODE_SIZE, &fs->want_extra_isize, 2);
	bcache_dirty(b);
	bcache_put(b);
	return 0;
}

uint64_t ext2_isize(const struct ext2_inode *in)
{
	return in->i_size | (ext2_is_reg(in) ? (uint64_t)in->i_size_high << 32 : 0);
}

void ext2_set_isize(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size)
{
	in->i_size = (uint32_t)size;
	if (!ext2_is_reg(in))
		return;
	in->i_size_high = (uint32_t)(size >> 32);
	if (size > 0x7FFFFFFF && !(fs->ro_compat & EXT2_RO_COMPAT_LARGE_FILE)) {
		fs->ro_compat |= EXT2_RO_COMPAT_LARGE_FILE;
		fs->sb_dirty = true;
	}
}

/* Where file block n sits: depth of indirection and the index at each level. */
static int block_path(const struct ext2_fs *fs, uint64_t n, uint32_t idx[MAX_DEPTH])
{
	uint64_t p = fs->ptrs_per_block;

	if (n < EXT2_NDIR_BLOCKS) {
		idx[0] = (uint32_t)n;
		return 1;
	}
	n -= EXT2_NDIR_BLOCKS;
	if (n < p) {
		idx[0] = EXT2_IND_BLOCK;
		idx[1] = (uint32_t)n;
		return 2;
	}
	n -= p;
	if (n < p * p) {
		idx[0] = EXT2_DIND_BLOCK;
		idx[1] = (uint32_t)(n / p);
		idx[2] = (uint32_t)(n % p);
		return 3;
	}
	n -= p * p;
	if (n < p * p * p) {
		idx[0] = EXT2_TIND_BLOCK;
		idx[1] = (uint32_t)(n / (p * p));
		idx[2] = (uint32_t)(n / p % p);
		idx[3] = (uint32_t)(n % p);
		return 4;
	}
	return 0;
}

static uint64_t max_blocks(const struct ext2_fs *fs)
{
	uint64_t p = fs->ptrs_per_block;

	return EXT2_NDIR_BLOCKS + p + p * p + p * p * p;
}

/* A pointer found at `depth` on a path whose blocks so far are path[0..depth). */
static long check_ptr(struct ext2_fs *fs, uint32_t ino, uint32_t b, const uint32_t *path,
		      int depth)
{
	if (!ext2_block_ok(fs, b))
		return ext2_corrupt(fs, "inode %u: block pointer %u is not a data block", ino, b);
	for (int i = 0; i < depth; i++)
		if (path[i] == b)
			return ext2_corrupt(fs, "inode %u: indirect block %u points at itself",
					    ino, b);
	return 0;
}

/* A new block for the file, zeroed, near goal. */
static long new_block(struct ext2_fs *fs, struct ext2_inode *in, uint32_t goal, uint32_t *b)
{
	struct ext2_bh bh;
	long err = ext2_balloc(fs, goal, b);

	if (err)
		return err;
	err = ext2_bread(fs, *b, true, &bh);
	if (err) {
		ext2_bfree(fs, *b);
		return err;
	}
	memset(bh.data, 0, fs->block_size);
	ext2_bdirty(&bh);
	ext2_brelse(&bh);
	in->i_blocks += sectors_per_block(fs);
	return 0;
}

long ext2_bmap(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t fblock,
	       bool alloc, uint32_t *block)
{
	uint32_t idx[MAX_DEPTH], path[MAX_DEPTH], cur, goal;
	int depth = block_path(fs, fblock, idx);
	long err;

	*block = 0;
	if (!depth)
		return ERR_RANGE;
	cur = in->i_block[idx[0]];
	goal = idx[0] > 0 && in->i_block[idx[0] - 1] ? in->i_block[idx[0] - 1] + 1
						     : fs->groups[(ino - 1) / fs->inodes_per_group].first;
	if (!cur) {
		if (!alloc)
			return 0;
		err = new_block(fs, in, goal, &cur);
		if (err)
			return err;
		in->i_block[idx[0]] = cur;
	} else if ((err = check_ptr(fs, ino, cur, path, 0))) {
		return err;
	}
	for (int level = 1; level < depth; level++) {
		struct ext2_bh bh;
		uint32_t *slot, next;

		path[level - 1] = cur;
		err = ext2_bread(fs, cur, false, &bh);
		if (err)
			return err;
		slot = (uint32_t *)bh.data + idx[level];
		next = *slot;
		if (!next && alloc) {
			goal = idx[level] > 0 && slot[-1] ? slot[-1] + 1 : cur + 1;
			err = new_block(fs, in, goal, &next);
			if (!err) {
				*slot = next;
				ext2_bdirty(&bh);
			}
		} else if (next) {
			err = check_ptr(fs, ino, next, path, level);
		}
		ext2_brelse(&bh);
		if (err || !next)
			return err;
		cur = next;
	}
	*block = cur;
	return 0;
}

/*
 * What a truncate or delete is about to free is checked before anything is
 * freed: a free that fails half-way (a pointer into metadata or beyond the
 * disk, a block already free, a block named twice) would leave the file
 * half-freed, or its name gone and its inode unattached.  The blocks seen
 * are kept sorted to find one named twice; past RELEASE_SEEN_MAX of them
 * the rest are still checked, except for that.
 */
#define RELEASE_SEEN_MAX 4096
#define WHERE_XATTR UINT32_MAX

struct release_check {
	uint32_t ino;
	uint32_t n;
	uint32_t seen[RELEASE_SEEN_MAX];
};

static struct release_check release_seen;	/* the server is single-threaded */

/* A new check for inode ino: nothing seen yet. */
static struct release_check *release_start(uint32_t ino)
{
	release_seen.ino = ino;
	release_seen.n = 0;
	return &release_seen;
}

/* => true if b was seen already; else remembers it (while there is room). */
static bool seen_before(struct release_check *rc, uint32_t b)
{
	uint32_t lo = 0, hi = rc->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (rc->seen[mid] == b)
			return true;
		if (rc->seen[mid] < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (rc->n < RELEASE_SEEN_MAX) {
		memmove(&rc->seen[lo + 1], &rc->seen[lo], (rc->n - lo) * sizeof(rc->seen[0]));
		rc->seen[lo] = b;
		rc->n++;
	}
	return false;
}

/* Can block b, named by slot `slot` of `parent` (0: the inode), be freed? */
static long check_freeable(struct ext2_fs *fs, struct release_check *rc, uint32_t b,
			   uint32_t parent, uint32_t slot)
{
	const char *what = NULL;
	long used = 0;

	if (b < fs->first_data_block || b >= fs->blocks_count)
		what = "points beyond the file system";
	else if (!ext2_block_ok(fs, b))
		what = "points into metadata";
	else if ((used = ext2_block_used(fs, b)) < 0)
		return used;
	else if (!used)
		what = "points at a block marked free";
	else if (seen_before(rc, b))
		what = "points at a block named twice";
	if (!what)
		return 0;
	if (parent == WHERE_XATTR)
		return ext2_corrupt(fs, "inode %u: attribute block %u %s: nothing freed, "
				    "file system needs e2fsck", rc->ino, b, what);
	if (parent)
		return ext2_corrupt(fs, "inode %u: pointer %u of indirect block %u (block %u) %s: "
				    "nothing freed, file system needs e2fsck", rc->ino, slot,
				    parent, b, what);
	return ext2_corrupt(fs, "inode %u: block pointer %u (block %u) %s: nothing freed, "
			    "file system needs e2fsck", rc->ino, slot, b, what);
}

/* check_freeable for what trunc_tree would visit of the subtree at b. */
static long check_tree(struct ext2_fs *fs, struct release_check *rc, uint32_t b,
		       uint32_t parent, uint32_t slot, int level, uint64_t start, uint64_t keep)
{
	uint64_t span = 1;
	struct ext2_bh bh;
	long err;

	if (!b)
		return 0;
	err = check_freeable(fs, rc, b, parent, slot);
	if (err || level == 0)
		return err;
	for (int i = 1; i < level; i++)
		span *= fs->ptrs_per_block;
	err = ext2_bread(fs, b, false, &bh);
	if (err)
		return err;
	for (uint32_t i = 0; i < fs->ptrs_per_block && !err; i++) {
		uint32_t next = ((const uint32_t *)bh.data)[i];

		if (start + (i + 1) * span <= keep || !next)
			continue;
		err = check_tree(fs, rc, next, b, i, level - 1, start + i * span, keep);
	}
	ext2_brelse(&bh);
	return err;
}

/* Can every block of the file from file block keep on be freed?  Changes nothing. */
static long check_truncate(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in,
			   uint64_t keep)
{
	uint64_t start = EXT2_NDIR_BLOCKS, span = fs->ptrs_per_block;
	struct release_check *rc = release_start(ino);
	long err = 0;

	for (uint64_t i = keep; i < EXT2_NDIR_BLOCKS && !err; i++)
		err = check_tree(fs, rc, in->i_block[i], 0, (uint32_t)i, 0, i, keep);
	for (int level = 1; level <= 3 && !err; level++) {
		uint32_t slot = EXT2_NDIR_BLOCKS - 1 + level;

		err = check_tree(fs, rc, in->i_block[slot], 0, slot, level, start, keep);
		start += span;
		span *= fs->ptrs_per_block;
	}
	return err;
}

/* Is the attribute block one release_xattr can release (and not one rc saw)? */
static long check_xattr(struct ext2_fs *fs, struct release_check *rc, uint32_t ino,
			const struct ext2_inode *in)
{
	struct ext2_bh bh;
	uint32_t magic, refs;
	long err;

	err = check_freeable(fs, rc, in->i_file_acl, WHERE_XATTR, 0);
	if (err)
		return err;
	err = ext2_bread(fs, in->i_file_acl, false, &bh);
	if (err)
		return err;
	memcpy(&magic, bh.data, 4);
	memcpy(&refs, bh.data + 4, 4);
	ext2_brelse(&bh);
	if (magic != EXT2_XATTR_MAGIC || refs == 0)
		return ext2_corrupt(fs, "inode %u: attribute block %u: magic %#x, %u references: "
				    "nothing freed, file system needs e2fsck", ino, in->i_file_acl,
				    magic, refs);
	return 0;
}

long ext2_check_delete(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
	long err = 0;

	release_start(ino);
	if (has_blocks(fs, in))
		err = check_truncate(fs, ino, in, 0);
	if (!err && in->i_file_acl)
		err = check_xattr(fs, &release_seen, ino, in);	/* against the blocks seen */
	return err;
}

/* Frees what of the subtree at *ptr (level 0: a data block) lies at or after file block keep. */
static long trunc_tree(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint32_t *ptr,
		       int level, uint64_t start, uint64_t keep, uint32_t *path, int depth)
{
	uint64_t span = 1;
	struct ext2_bh bh;
	long err;

	if (!*ptr)
		return 0;
	err = check_ptr(fs, ino, *ptr, path, depth);
	if (err)
		return err;
	for (int i = 1; i < level; i++)
		span *= fs->ptrs_per_block;
	if (level > 0) {
		bool changed = false;

		err = ext2_bread(fs, *ptr, false, &bh);
		if (err)
			return err;
		path[depth] = *ptr;
		for (uint32_t i = 0; i < fs->ptrs_per_block && !err; i++) {
			uint32_t *slot = (uint32_t *)bh.data + i;

			if (start + (i + 1) * span <= keep || !*slot)
				continue;
			err = trunc_tree(fs, ino, in, slot, level - 1, start + i * span, keep, path,
					 depth + 1);
			changed = true;
		}
		if (changed)
			ext2_bdirty(&bh);
		ext2_brelse(&bh);
		if (err || start < keep)
			return err;	/* partly kept: the indirect block stays */
	}
	err = ext2_bfree(fs, *ptr);
	if (err)
		return err;
	*ptr = 0;
	in->i_blocks -= in->i_blocks >= sectors_per_block(fs) ? sectors_per_block(fs) : in->i_blocks;
	return 0;
}

/* Zeroes [from, end of block) of file block fblock, if it is mapped. */
static long zero_block_tail(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in,
			    uint64_t fblock, uint32_t from, bool *was_dirty)
{
	struct ext2_bh bh;
	uint32_t b;
	long err = ext2_bmap(fs, ino, in, fblock, false, &b);

	if (err || !b)
		return err;
	err = ext2_bread(fs, b, false, &bh);
	if (err)
		return err;
	for (uint32_t i = from; i < fs->block_size; i++) {
		if (bh.data[i]) {
			memset(bh.data + from, 0, fs->block_size - from);
			ext2_bdirty(&bh);
			if (was_dirty)
				*was_dirty = true;
			break;
		}
	}
	ext2_brelse(&bh);
	return 0;
}

long ext2_itruncate(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t size)
{
	uint64_t keep = (size + fs->block_size - 1) / fs->block_size, start = EXT2_NDIR_BLOCKS;
	uint64_t span = fs->ptrs_per_block;
	uint32_t path[MAX_DEPTH];
	long err = 0;

	if (fs->read_only)
		return ERR_ROFS;
	if (keep > max_blocks(fs))
		return ERR_RANGE;
	/* Shrinking frees; so does deleting, whatever the (untrusted) size said. */
	if ((size < ext2_isize(in) || size == 0) && has_blocks(fs, in)) {
		err = check_truncate(fs, ino, in, keep);
		for (uint64_t i = keep; i < EXT2_NDIR_BLOCKS && !err; i++)
			err = trunc_tree(fs, ino, in, &in->i_block[i], 0, i, keep, path, 0);
		for (int level = 1; level <= 3 && !err; level++) {
			err = trunc_tree(fs, ino, in, &in->i_block[EXT2_NDIR_BLOCKS - 1 + level],
					 level, start, keep, path, 0);
			start += span;
			span *= fs->ptrs_per_block;
		}
		if (!err && size % fs->block_size)
			err = zero_block_tail(fs, ino, in, size / fs->block_size,
					      (uint32_t)(size % fs->block_size), NULL);
	}
	if (!err)
		ext2_set_isize(fs, in, size);
	return err;
}

/* The extended attribute block is shared by reference count. */
static long release_xattr(struct ext2_fs *fs, struct ext2_inode *in)
{
	struct ext2_bh bh;
	uint32_t magic, refs;
	long err = ext2_bread(fs, in->i_file_acl, false, &bh);

	if (err)
		return err;
	memcpy(&magic, bh.data, 4);
	memcpy(&refs, bh.data + 4, 4);
	if (magic != EXT2_XATTR_MAGIC || refs == 0) {
		ext2_brelse(&bh);
		return ext2_corrupt(fs, "attribute block %u: magic %#x, %u references",
				    in->i_file_acl, magic, refs);
	}
	if (refs > 1) {
		refs--;
		memcpy(bh.data + 4, &refs, 4);
		ext2_bdirty(&bh);
	}
	ext2_brelse(&bh);
	if (refs <= 1 && (err = ext2_bfree(fs, in->i_file_acl)))
		return err;
	in->i_file_acl = 0;
	in->i_blocks -= in->i_blocks >= sectors_per_block(fs) ? sectors_per_block(fs) : in->i_blocks;
	return 0;
}

long ext2_idelete(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	bool dir = ext2_is_dir(in);
	long err = in->i_file_acl ? check_xattr(fs, release_start(ino), ino, in) : 0;

	/* The blocks are checked by ext2_itruncate, the attribute block here: all first. */
	if (!err && has_blocks(fs, in))
		err = ext2_itruncate(fs, ino, in, 0);
	if (!err && in->i_file_acl)
		err = release_xattr(fs, in);
	if (err)
		return err;
	in->i_size = in->i_size_high = 0;
	in->i_links_count = 0;
	in->i_dtime = fs->now ? fs->now : 1;
	err = ext2_iput(fs, ino, in);
	return err ? err : ext2_ifree(fs, ino, dir);
}

static void fill_stat(uint32_t ino, const struct ext2_inode *in, struct ext2_stat *st)
{
	st->ino = ino;
	st->generation = in->i_generation;
	st->mode = in->i_mode;
	st->links = in->i_links_count;
	st->size = ext2_isize(in);
	st->blocks = in->i_blocks;
	st->mtime = in->i_mtime;
}

long ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_stat *st)
{
	struct ext2_inode in;
	long err = ext2_iget(fs, ino, &in);

	if (err)
		return err;
	fill_stat(ino, &in, st);
	return 0;
}

long ext2_stat_handle(struct ext2_fs *fs, uint32_t ino, uint32_t generation,
		      struct ext2_stat *st)
{
	struct ext2_inode in;
	long err;

	if (ino == 0 || ino > fs->inodes_count)
		return ERR_BADHANDLE;
	err = ext2_iget(fs, ino, &in);
	if (err)
		return err;
	if (in.i_links_count == 0 || in.i_mode == 0 || in.i_generation != generation)
		return ERR_BADHANDLE;
	fill_stat(ino, &in, st);
	return 0;
}

long ext2_check_handle(struct ext2_fs *fs, uint32_t ino, uint32_t generation)
{
	struct ext2_stat st;

	return ext2_stat_handle(fs, ino, generation, &st);
}

/* A regular file's inode, for reading and writing. */
static long get_reg(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	long err = ext2_iget(fs, ino, in);

	if (err)
		return err;
	if (in->i_links_count == 0)
		return ERR_BADHANDLE;
	return ext2_is_reg(in) ? 0 : ERR_INVAL;
}

long ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len)
{
	struct ext2_inode in;
	uint64_t size, done = 0;
	long err = get_reg(fs, ino, &in);

	if (err)
		return err;
	size = ext2_isize(&in);
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t in_block = (uint32_t)(pos % fs->block_size), b;
		size_t n = fs->block_size - in_block;
		struct ext2_bh bh;

		if (n > len - done)
			n = (size_t)(len - done);
		err = ext2_bmap(fs, ino, &in, pos / fs->block_size, false, &b);
		if (err)
			return err;
		if (!b) {
			memset((uint8_t *)buf + done, 0, n);	/* a hole */
		} else {
			err = ext2_bread(fs, b, false, &bh);
			if (err)
				return err;
			memcpy((uint8_t *)buf + done, bh.data + in_block, n);
			ext2_brelse(&bh);
		}
		done += n;
	}
	return (long)done;
}

long ext2_write(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len)
{
	struct ext2_inode in;
	uint64_t size, done = 0;
	long err = get_reg(fs, ino, &in);

	if (err)
		return err;
	if (fs->read_only)
		return ERR_ROFS;
	size = ext2_isize(&in);
	if (off > max_blocks(fs) * fs->block_size || len > max_blocks(fs) * fs->block_size - off)
		return ERR_RANGE;
	/* Growing past a partial last block: what lay after the old end must read as zero. */
	if (off > size && size % fs->block_size)
		err = zero_block_tail(fs, ino, &in, size / fs->block_size,
				      (uint32_t)(size % fs->block_size), NULL);
	while (!err && done < len) {
		uint64_t pos = off + done;
		uint32_t in_block = (uint32_t)(pos % fs->block_size), b;
		size_t n = fs->block_size - in_block;
		struct ext2_bh bh;

		if (n > len - done)
			n = (size_t)(len - done);
		err = ext2_bmap(fs, ino, &in, pos / fs->block_size, true, &b);
		if (!err)
			err = ext2_bread(fs, b, n == fs->block_size, &bh);
		if (err)
			break;
		memcpy(bh.data + in_block, (const uint8_t *)buf + done, n);
		ext2_bdirty(&bh);
		ext2_brelse(&bh);
		done += n;
	}
	if (off + done > size)
		ext2_set_isize(fs, &in, off + done);
	if (done) {
		in.i_mtime = in.i_ctime = fs->now;
		err = ext2_iput(fs, ino, &in);
	} else {
		ext2_iput(fs, ino, &in);	/* blocks may have been allocated */
	}
	return err && !done ? err : (long)done;
}

long ext2_truncate(struct ext2_fs *fs, uint32_t ino, uint64_t size)
{
	struct ext2_inode in;
	uint64_t old;
	long err = get_reg(fs, ino, &in);

	if (err)
		return err;
	if (fs->read_only)
		return ERR_ROFS;
	old = ext2_isize(&in);
	if (size > old && old % fs->block_size)
		err = zero_block_tail(fs, ino, &in, old / fs->block_size,
				      (uint32_t)(old % fs->block_size), NULL);
	if (!err)
		err = ext2_itruncate(fs, ino, &in, size);
	if (!err)
		in.i_mtime = in.i_ctime = fs->now;
	/* Written even after an error: a free that failed half-way changed pointers. */
	return ext2_iput(fs, ino, &in) ? ERR_IO : err;
}

long ext2_file_blocks(struct ext2_fs *fs, uint32_t ino, uint64_t first, uint32_t n, bool alloc,
		      uint32_t *blocks, uint64_t *size)
{
	struct ext2_inode in;
	long err = get_reg(fs, ino, &in);

	if (err)
		return err;
	*size = ext2_isize(&in);
	if (alloc && fs->read_only)
		return ERR_ROFS;
	for (uint32_t i = 0; i < n && !err; i++)
		err = ext2_bmap(fs, ino, &in, first + i, alloc, &blocks[i]);
	if (alloc) {
		long e2 = ext2_iput(fs, ino, &in);

		err = err ? err : e2;
	}
	return err;
}

long ext2_file_block(struct ext2_fs *fs, uint32_t ino, uint64_t fblock, bool alloc,
		     uint32_t *block, uint64_t *size)
{
	return ext2_file_blocks(fs, ino, fblock, 1, alloc, block, size);
}

long ext2_zero_tail(struct ext2_fs *fs, uint32_t ino)
{
	struct ext2_inode in;
	uint64_t size;
	bool zeroed = false;
	long err = get_reg(fs, ino, &in);

	if (err)
		return err;
	size = ext2_isize(&in);
	if (size % fs->block_size == 0 || fs->read_only)
		return 0;
	err = zero_block_tail(fs, ino, &in, size / fs->block_size,
			      (uint32_t)(size % fs->block_size), &zeroed);
	if (zeroed)
		printf("ext2: inode %u: bytes after end of file were not zero: zeroed\n", ino);
	return err;
}
