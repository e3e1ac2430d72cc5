/* SPDX-License-Identifier: MIT */
/*
 * Corrupted images: the superblock, group descriptors, inode block
 * pointers (out of range, on metadata, looping) and directory entries
 * (rec_len, name_len) each give a clear error, never a crash or a hang
 * (ASan and UBSan watch), and the rest of the file system keeps working.
 * Then a small fuzzer flips bytes in the metadata of a sample image and
 * walks everything it can still reach, reading and writing.
 */
#include "ext2_host.h"

static const char *fresh_copy(const char *name, int bs)
{
	static char src[2][512];
	char *s = src[bs == 4096];

	if (!s[0]) {
		const char *img = make_image(bs == 4096 ? "base4k.img" : "base1k.img", bs,
					     samples_dir(), 16384);	/* 2+ groups */

		if (!img)
			return NULL;
		strcpy(s, img);
	}
	const char *dst = tmp_path(name);

	run(NULL, 0, "cp '%s' '%s'", s, dst);
	return dst;
}

static void patch(const char *img, uint64_t off, const void *bytes, size_t n)
{
	int fd = open(img, O_RDWR);

	HCHECK(fd >= 0 && pwrite(fd, bytes, n, (off_t)off) == (ssize_t)n);
	close(fd);
}

static void patch32(const char *img, uint64_t off, uint32_t v)
{
	patch(img, off, &v, 4);
}

static void patch16(const char *img, uint64_t off, uint16_t v)
{
	patch(img, off, &v, 2);
}

#define SB(field)	(EXT2_SB_OFFSET + offsetof(struct ext2_super, field))

static long mount_patched32(uint64_t off, uint32_t v, bool rw, struct mnt *m)
{
	const char *img = fresh_copy("sb.img", 1024);

	patch32(img, off, v);
	return mnt_open(m, img, rw);
}

HTEST(superblock)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = fresh_copy("magic.img", 1024);
	uint32_t ino;

	patch16(img, SB(s_magic), 0x1234);
	HCHECK_EQ(mnt_open(m, img, true), ERR_INVAL);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_log_block_size), 9, true, m), ERR_INVAL);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_inodes_count), 12345, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_blocks_count), 1u << 30, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_blocks_per_group), 0, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_inodes_per_group), 0, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_first_data_block), 0, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_first_ino), 1, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(SB(s_rev_level), 2, true, m), ERR_INVAL);
	mnt_close(m);
	/* inode size 100: patch the u16 alone */
	img = fresh_copy("isize.img", 1024);
	patch16(img, SB(s_inode_size), 100);
	HCHECK_EQ(mnt_open(m, img, true), ERR_IO);
	mnt_close(m);
	/* an incompatible feature we do not know (extents): refused */
	HCHECK_EQ(mount_patched32(SB(s_feature_incompat), EXT2_INCOMPAT_FILETYPE | 0x40, true, m),
		  ERR_INVAL);
	mnt_close(m);
	/* a read-only-compatible one (huge_file): mounted read-only */
	HCHECK_EQ(mount_patched32(SB(s_feature_ro_compat), EXT2_RO_COMPAT_SUPPORTED | 0x8, true, m),
		  0);
	HCHECK(m->fs.read_only);
	HCHECK_EQ(ext2_create(&m->fs, "/new", 0644, &ino), ERR_ROFS);
	HCHECK_EQ(ext2_lookup(&m->fs, "/hello.txt", &ino), 0);
	mnt_close(m);
	free(m);
}

HTEST(group_descriptors)
{
	struct mnt *m = calloc(1, sizeof(*m));
	uint64_t gd = 2 * 1024;	/* 1 KiB blocks: the table is block 2 */
	uint64_t gd1 = gd + sizeof(struct ext2_group_desc);

	HCHECK_EQ(mount_patched32(gd + offsetof(struct ext2_group_desc, bg_inode_table), 0, true,
				  m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(gd1 + offsetof(struct ext2_group_desc, bg_inode_table), 5, true,
				  m), ERR_IO);	/* group 1's table inside group 0 */
	mnt_close(m);
	HCHECK_EQ(mount_patched32(gd + offsetof(struct ext2_group_desc, bg_block_bitmap), 1, true,
				  m), ERR_IO);	/* on the superblock */
	mnt_close(m);
	HCHECK_EQ(mount_patched32(gd + offsetof(struct ext2_group_desc, bg_inode_bitmap),
				  0xFFFFFFF0u, true, m), ERR_IO);
	mnt_close(m);
	HCHECK_EQ(mount_patched32(gd + offsetof(struct ext2_group_desc, bg_free_blocks_count),
				  0xFFFF, true, m), ERR_IO);
	mnt_close(m);
	free(m);
}

/* The image's byte offset of an inode, and its fields, through a clean mount. */
static void inode_of(const char *img, const char *path, uint32_t *ino, uint64_t *off,
		     struct ext2_inode *in)
{
	struct mnt *m = calloc(1, sizeof(*m));

	HCHECK_EQ(mnt_open(m, img, false), 0);
	HCHECK_EQ(ext2_lookup(&m->fs, path, ino), 0);
	HCHECK_EQ(inode_offset(&m->fs, *ino, off), 0);
	HCHECK_EQ(ext2_iget(&m->fs, *ino, in), 0);
	mnt_close(m);
	free(m);
}

#define I_BLOCK(n)	(offsetof(struct ext2_inode, i_block) + 4 * (n))

/* Reading gives ERR_IO; other files still read; unlink is refused or clean. */
static void expect_bad_file(const char *img, const char *path, uint64_t at)
{
	struct mnt *m = calloc(1, sizeof(*m));
	static uint8_t buf[400 * 1024];
	uint32_t ino, other;

	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK_EQ(ext2_lookup(&m->fs, path, &ino), 0);
	HCHECK_EQ(ext2_read(&m->fs, ino, at, buf, 4096), ERR_IO);
	HCHECK_EQ(ext2_write(&m->fs, ino, at, buf, 4096), ERR_IO);
	HCHECK_EQ(ext2_lookup(&m->fs, "/docs/lines.txt", &other), 0);
	HCHECK_EQ(ext2_read(&m->fs, other, 0, buf, sizeof(buf)), 124000);
	HCHECK(ext2_unlink(&m->fs, path) == ERR_IO);
	HCHECK_EQ(ext2_create(&m->fs, "/still-works", 0644, &other), 0);
	mnt_close(m);
	/* the superblock now says "errors": the next mount is read-only */
	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK(m->fs.read_only);
	HCHECK_EQ(ext2_lookup(&m->fs, "/still-works", &other), 0);
	mnt_close(m);
	free(m);
}

static void block_pointers(int bs)
{
	uint32_t ino, ind;
	uint64_t off;
	struct ext2_inode in;
	const char *img = fresh_copy("ptr.img", bs);
	uint64_t ind_at = 12ull * bs;	/* first byte behind the single indirect block */

	inode_of(img, "/data/pattern.bin", &ino, &off, &in);
	patch32(img, off + I_BLOCK(0), 1u << 30);	/* beyond the fs */
	expect_bad_file(img, "/data/pattern.bin", 0);

	img = fresh_copy("ptr.img", bs);
	patch32(img, off + I_BLOCK(3), bs == 1024 ? 2 : 1);	/* the group descriptors */
	expect_bad_file(img, "/data/pattern.bin", 3ull * bs);

	img = fresh_copy("ptr.img", bs);
	patch32(img, off + I_BLOCK(5), in.i_block[EXT2_IND_BLOCK] ? 0 : 0);	/* a hole: fine */
	ind = in.i_block[EXT2_IND_BLOCK];
	/* the indirect block's first pointer names the indirect block itself */
	patch32(img, (uint64_t)ind * bs, ind);
	expect_bad_file(img, "/data/pattern.bin", ind_at);

	/* extents flag: not an ext2 inode */
	img = fresh_copy("ptr.img", bs);
	patch32(img, off + offsetof(struct ext2_inode, i_flags), 0x80000);
	{
		struct mnt *m = calloc(1, sizeof(*m));
		uint8_t b[16];

		HCHECK_EQ(mnt_open(m, img, true), 0);
		HCHECK_EQ(ext2_read(&m->fs, ino, 0, b, sizeof(b)), ERR_IO);
		HCHECK_EQ(ext2_lookup(&m->fs, "/data/pattern.bin", &ino), ERR_IO);
		mnt_close(m);
		free(m);
	}
}

HTEST(block_pointers_1k)
{
	block_pointers(1024);
}

HTEST(block_pointers_4k)
{
	block_pointers(4096);
}

/* The root directory's first block, patched at byte `at`. */
static void bad_dirent(int bs, uint64_t at, const void *bytes, size_t n)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = fresh_copy("dir.img", bs);
	struct ext2_inode root;
	struct ext2_dirent e;
	uint64_t cookie = 0, off;
	uint32_t ino;

	inode_of(img, "/", &ino, &off, &root);
	patch(img, (uint64_t)root.i_block[0] * bs + at, bytes, n);
	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK_EQ(ext2_lookup(&m->fs, "/hello.txt", &ino), ERR_IO);
	HCHECK_EQ(ext2_readdir(&m->fs, EXT2_ROOT_INO, &cookie, &e), ERR_IO);
	HCHECK_EQ(ext2_create(&m->fs, "/x", 0644, &ino), ERR_IO);
	HCHECK_EQ(ext2_lookup(&m->fs, "/", &ino), 0);
	mnt_close(m);
	free(m);
}

static void dir_entries(int bs)
{
	uint16_t zero = 0, odd = 13, huge = 0xFFFC;
	uint8_t long_name = 250;
	uint32_t bad_ino = 0x7FFFFFFF;

	bad_dirent(bs, 4, &zero, 2);		/* rec_len 0: would loop for ever */
	bad_dirent(bs, 4, &odd, 2);		/* not a multiple of 4 */
	bad_dirent(bs, 4, &huge, 2);		/* past the block */
	bad_dirent(bs, 12 + 6, &long_name, 1);	/* ".." name longer than its record */
	bad_dirent(bs, 24, &bad_ino, 4);	/* third entry: inode out of range */
}

HTEST(dir_entries_1k)
{
	dir_entries(1024);
}

HTEST(dir_entries_4k)
{
	dir_entries(4096);
}

/* Everything reachable from dir, read, listed and stat'ed; bounded. */
static void walk_all(struct ext2_fs *fs, const char *path, uint32_t dir, int depth, int *budget)
{
	static uint8_t buf[64 * 1024];
	struct ext2_dirent e;
	uint64_t cookie = 0;

	while (--*budget > 0 && ext2_readdir(fs, dir, &cookie, &e) == 1) {
		struct ext2_stat st;
		char p[1200];
		uint32_t ino;

		if (!strcmp(e.name, ".") || !strcmp(e.name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e.name);
		if (ext2_lookup(fs, p, &ino) || ext2_stat(fs, ino, &st))
			continue;
		if ((st.mode >> 12) == EXT2_TYPE_DIR && depth < 6)
			walk_all(fs, p, ino, depth + 1, budget);
		else if ((st.mode >> 12) == EXT2_TYPE_REG)
			for (uint64_t off = 0; off < st.size && off < (1 << 20); off += sizeof(buf))
				if (ext2_read(fs, ino, off, buf, sizeof(buf)) <= 0)
					break;
	}
}

/* xorshift: the same damage on every run. */
static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Where damage matters: byte ranges of the image's metadata. */
struct target {
	uint64_t off, len;
};

static int fuzz_targets(const char *img, int bs, struct target *t)
{
	static const char *const dirs[] = { "/", "/docs", "/data", "/docs/notes" };
	struct mnt *m = calloc(1, sizeof(*m));
	struct ext2_inode in;
	uint64_t off;
	uint32_t ino;
	int n = 0;

	HCHECK_EQ(mnt_open(m, img, false), 0);
	t[n++] = (struct target){ 1024, 1024 };	/* superblock */
	t[n++] = (struct target){ (uint64_t)(m->fs.first_data_block + 1) * bs, 64 };
	HCHECK_EQ(inode_offset(&m->fs, 1, &off), 0);
	t[n++] = (struct target){ off, 24ull * m->fs.inode_size };	/* the live inodes */
	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		HCHECK_EQ(ext2_lookup(&m->fs, dirs[i], &ino), 0);
		HCHECK_EQ(ext2_iget(&m->fs, ino, &in), 0);
		t[n++] = (struct target){ (uint64_t)in.i_block[0] * bs, (uint64_t)bs };
	}
	HCHECK_EQ(ext2_lookup(&m->fs, "/data/pattern.bin", &ino), 0);
	HCHECK_EQ(ext2_iget(&m->fs, ino, &in), 0);
	t[n++] = (struct target){ (uint64_t)in.i_block[EXT2_IND_BLOCK] * bs, (uint64_t)bs };
	t[n++] = (struct target){ (uint64_t)in.i_block[EXT2_DIND_BLOCK] * bs, (uint64_t)bs };
	t[n++] = (struct target){ (uint64_t)m->fs.groups[0].d.bg_block_bitmap * bs, 64 };
	t[n++] = (struct target){ (uint64_t)m->fs.groups[0].d.bg_inode_bitmap * bs, 8 };
	mnt_close(m);
	free(m);
	return n;
}

static void fuzz(int bs, int rounds)
{
	struct mnt *m = calloc(1, sizeof(*m));
	struct target t[16];
	int mounted = 0, nt = fuzz_targets(fresh_copy("fuzz.img", bs), bs, t);

	for (int r = 0; r < rounds; r++) {
		const char *img = fresh_copy("fuzz.img", bs);
		int budget = 2000, flips = 1 + (int)(rng() % 6);
		uint32_t ino;

		for (int i = 0; i < flips; i++) {
			const struct target *tg = &t[rng() % (uint64_t)nt];
			uint8_t v = (uint8_t)rng();

			if (tg->len)
				patch(img, tg->off + rng() % tg->len, &v, 1);
		}
		if (mnt_open(m, img, true) == 0) {
			mounted++;
			walk_all(&m->fs, "", EXT2_ROOT_INO, 0, &budget);
			if (ext2_create(&m->fs, "/fuzz-new", 0644, &ino) == 0)
				ext2_write(&m->fs, ino, 5000, "data", 4);
			ext2_mkdir(&m->fs, "/docs/fuzz-dir", 0755, &ino);
			ext2_rename(&m->fs, "/hello.txt", "/docs/notes/hello");
			ext2_rename(&m->fs, "/docs/notes", "/data/notes");
			ext2_unlink(&m->fs, "/data/pattern.bin");
			ext2_unlink(&m->fs, "/docs/lines.txt");
			ext2_unlink(&m->fs, "/data/notes/deep/leaf.txt");
			ext2_unlink(&m->fs, "/data/notes/deep");
		}
		mnt_close(m);
	}
	HCHECK(mounted > rounds / 4);
	free(m);
}

HTEST(fuzz_1k)
{
	fuzz(1024, 300);
}

HTEST(fuzz_4k)
{
	fuzz(4096, 300);
}
