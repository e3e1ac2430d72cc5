// SPDX-License-Identifier: MIT
/*
 * Path names and the operations that change the name space: create,
 * mkdir, unlink and rename.  Each one checks everything it can before its
 * first change (validate, then commit); what can still fail afterwards is
 * the disk (ERR_IO) or space (ERR_NOSPC), and the changes are ordered so
 * that a failure leaves counts and links consistent: an inode is linked
 * only once it is complete, and freed only after its last name is gone.
 */
#include <string.h>

#include "ext2_impl.h"

#define EXT2_LINK_MAX	32000
#define WALK_UP_MAX	4096	/* deeper than any path we accept: a ".." loop */

/* A live inode: links and mode, else the entry that named it is corrupt. */
static long get_live(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	long err = ext2_iget(fs, ino, in);

	if (err)
		return err;
	if (in->i_links_count == 0 || in->i_mode == 0)
		return ext2_corrupt(fs, "a directory entry names free inode %u", ino);
	return 0;
}

/* Resolves path[0..end): every component a directory entry, from the root. */
static long walk(struct ext2_fs *fs, const char *path, size_t end, uint32_t *ino)
{
	uint32_t cur = EXT2_ROOT_INO;
	size_t i = 0;

	if (end > EXT2_PATH_MAX)
		return ERR_RANGE;
	if (end == 0 || path[0] != '/')
		return ERR_INVAL;
	while (i < end) {
		struct ext2_inode in;
		size_t n = 0;
		long err;

		while (i < end && path[i] == '/')
			i++;
		while (i + n < end && path[i + n] != '/')
			n++;
		if (n == 0)
			break;
		if (n > EXT2_NAME_MAX)
			return ERR_RANGE;
		err = get_live(fs, cur, &in);
		if (err)
			return err;
		if (!ext2_is_dir(&in))
			return ERR_INVAL;	/* not a directory (symbolic links are not followed) */
		err = ext2_dir_find(fs, cur, path + i, n, &cur);
		if (err)
			return err;
		i += n;
	}
	*ino = cur;
	return 0;
}

long ext2_lookup(struct ext2_fs *fs, const char *path, uint32_t *ino)
{
	struct ext2_inode in;
	long err = walk(fs, path, strnlen(path, EXT2_PATH_MAX + 1), ino);

	return err ? err : get_live(fs, *ino, &in);
}

/* The last component of a path and the directory it is in. */
struct split {
	uint32_t parent;
	const char *name;
	size_t len;
};

static long split_path(struct ext2_fs *fs, const char *path, struct split *sp)
{
	size_t end = strnlen(path, EXT2_PATH_MAX + 1), start;
	struct ext2_inode in;
	long err;

	if (end > EXT2_PATH_MAX)
		return ERR_RANGE;
	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	sp->name = path + start;
	sp->len = end - start;
	if (sp->len == 0 || (sp->len == 1 && sp->name[0] == '.') ||
	    (sp->len == 2 && !memcmp(sp->name, "..", 2)))
		return ERR_INVAL;	/* "/", "." and ".." cannot be made, moved or removed */
	if (sp->len > EXT2_NAME_MAX)
		return ERR_RANGE;
	err = walk(fs, path, start, &sp->parent);
	if (!err)
		err = get_live(fs, sp->parent, &in);
	if (!err && !ext2_is_dir(&in))
		err = ERR_INVAL;
	return err;
}

static long adjust_links(struct ext2_fs *fs, uint32_t ino, int delta)
{
	struct ext2_inode in;
	long err = ext2_iget(fs, ino, &in);

	if (err)
		return err;
	in.i_links_count = (uint16_t)(in.i_links_count + delta);
	in.i_ctime = fs->now;
	return ext2_iput(fs, ino, &in);
}

/* A new inode with its name in sp->parent; mkdir also gives it "." and "..". */
static long make(struct ext2_fs *fs, const char *path, uint16_t mode, uint32_t *out)
{
	bool dir = (mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
	struct ext2_inode in, pin;
	struct split sp;
	uint32_t ino;
	long err;

	if (fs->read_only)
		return ERR_ROFS;
	err = split_path(fs, path, &sp);
	if (!err)
		err = ext2_dir_find(fs, sp.parent, sp.name, sp.len, &ino);
	if (err != ERR_NOENT)
		return err ? err : ERR_EXIST;
	err = ext2_iget(fs, sp.parent, &pin);
	if (err)
		return err;
	if (dir && pin.i_links_count >= EXT2_LINK_MAX)
		return ERR_FULL;
	err = ext2_ialloc(fs, sp.parent, dir, &ino);
	if (err)
		return err;
	err = ext2_inew(fs, ino, mode, &in);
	if (!err) {
		in.i_links_count = dir ? 2 : 1;
		err = ext2_iput(fs, ino, &in);
	}
	if (!err && dir)
		err = ext2_dir_init(fs, ino, sp.parent);
	if (!err)
		err = ext2_dir_add(fs, sp.parent, sp.name, sp.len, ino, mode);
	if (err) {
		/* Not linked anywhere: give everything back. */
		if (!ext2_iget(fs, ino, &in))
			ext2_idelete(fs, ino, &in);
		return err;
	}
	if (dir)
		err = adjust_links(fs, sp.parent, +1);
	*out = ino;
	return err;
}

long ext2_create(struct ext2_fs *fs, const char *path, uint16_t perm, uint32_t *ino)
{
	return make(fs, path, EXT2_S_IFREG | (perm & 07777), ino);
}

long ext2_mkdir(struct ext2_fs *fs, const char *path, uint16_t perm, uint32_t *ino)
{
	return make(fs, path, EXT2_S_IFDIR | (perm & 07777), ino);
}

/* Does dropping one name of this inode delete it (drop_link)? */
static bool is_last_link(const struct ext2_inode *in)
{
	return ext2_is_dir(in) || in->i_links_count <= 1;
}

/* Drops one name of ino (already removed from parent): a directory goes at once. */
static long drop_link(struct ext2_fs *fs, uint32_t parent, uint32_t ino)
{
	struct ext2_inode in;
	long err = ext2_iget(fs, ino, &in);

	if (err)
		return err;
	if (ext2_is_dir(&in)) {
		err = ext2_idelete(fs, ino, &in);
		return err ? err : adjust_links(fs, parent, -1);	/* its ".." is gone */
	}
	if (in.i_links_count > 1) {
		in.i_links_count--;
		in.i_ctime = fs->now;
		return ext2_iput(fs, ino, &in);
	}
	return ext2_idelete(fs, ino, &in);
}

long ext2_unlink(struct ext2_fs *fs, const char *path)
{
	struct ext2_inode in;
	struct split sp;
	uint32_t ino;
	long err;

	if (fs->read_only)
		return ERR_ROFS;
	err = split_path(fs, path, &sp);
	if (!err)
		err = ext2_dir_find(fs, sp.parent, sp.name, sp.len, &ino);
	if (!err)
		err = get_live(fs, ino, &in);
	if (!err && ext2_is_dir(&in)) {
		err = ext2_dir_is_empty(fs, ino);
		err = err == 1 ? 0 : err == 0 ? ERR_NOTEMPTY : err;
	}
	/* Before the name goes: a delete that fails then would leave an unattached inode. */
	if (!err && is_last_link(&in))
		err = ext2_check_delete(fs, ino, &in);
	if (!err)
		err = ext2_dir_remove(fs, sp.parent, sp.name, sp.len);
	return err ? err : drop_link(fs, sp.parent, ino);
}

/* Is `dir` ino itself or below it?  Walks ".." up from dir to the root. */
static long is_below(struct ext2_fs *fs, uint32_t dir, uint32_t ino)
{
	for (int steps = 0; steps < WALK_UP_MAX; steps++) {
		long err;

		if (dir == ino)
			return 1;
		if (dir == EXT2_ROOT_INO)
			return 0;
		err = ext2_dir_find(fs, dir, "..", 2, &dir);
		if (err)
			return err == ERR_NOENT ? ext2_corrupt(fs, "directory without \"..\"") : err;
	}
	return ext2_corrupt(fs, "\"..\" entries form a loop");
}

/* What rename may do with src (a dir or not) over dst (0 if no such name). */
static long check_rename(struct ext2_fs *fs, const struct split *to, uint32_t src, bool src_dir,
			 uint32_t dst)
{
	struct ext2_inode din;
	long err;

	if (src_dir) {
		err = is_below(fs, to->parent, src);
		if (err)
			return err == 1 ? ERR_INVAL : err;	/* into itself */
	}
	if (!dst)
		return 0;
	err = get_live(fs, dst, &din);
	if (err)
		return err;
	if (ext2_is_dir(&din) != src_dir)
		return ERR_INVAL;
	if (is_last_link(&din)) {
		err = ext2_check_delete(fs, dst, &din);	/* replaced: deleted at the end */
		if (err)
			return err;
	}
	if (!src_dir)
		return 0;
	err = ext2_dir_is_empty(fs, dst);
	return err == 1 ? 0 : err == 0 ? ERR_NOTEMPTY : err;
}

long ext2_rename(struct ext2_fs *fs, const char *from, const char *to)
{
	struct split sf, st;
	struct ext2_inode sin;
	uint32_t src, dst = 0;
	bool src_dir;
	long err;

	if (fs->read_only)
		return ERR_ROFS;
	err = split_path(fs, from, &sf);
	if (!err)
		err = split_path(fs, to, &st);
	if (!err)
		err = ext2_dir_find(fs, sf.parent, sf.name, sf.len, &src);
	if (!err)
		err = get_live(fs, src, &sin);
	if (err)
		return err;
	src_dir = ext2_is_dir(&sin);
	err = ext2_dir_find(fs, st.parent, st.name, st.len, &dst);
	if (err == ERR_NOENT)
		dst = 0;
	else if (err)
		return err;
	if (dst == src)
		return 0;	/* two names of one file: nothing to do */
	if (src_dir && !dst && sf.parent != st.parent) {
		struct ext2_inode pin;

		err = ext2_iget(fs, st.parent, &pin);
		if (!err && pin.i_links_count >= EXT2_LINK_MAX)
			err = ERR_FULL;
		if (err)
			return err;
	}
	err = check_rename(fs, &st, src, src_dir, dst);
	if (err)
		return err;
	/* The new name first: a failure after it leaves two names, never none. */
	if (dst)
		err = ext2_dir_retarget(fs, st.parent, st.name, st.len, src, sin.i_mode);
	else
		err = ext2_dir_add(fs, st.parent, st.name, st.len, src, sin.i_mode);
	if (!err)
		err = ext2_dir_remove(fs, sf.parent, sf.name, sf.len);
	if (!err && src_dir && sf.parent != st.parent) {
		err = ext2_dir_retarget(fs, src, "..", 2, st.parent, EXT2_S_IFDIR);
		if (!err)
			err = adjust_links(fs, sf.parent, -1);
		if (!err)
			err = adjust_links(fs, st.parent, +1);
	}
	if (!err && dst)
		err = drop_link(fs, st.parent, dst);
	return err;
}
