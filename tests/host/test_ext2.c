/* SPDX-License-Identifier: MIT */
/*
 * user/fs's ext2 code against images made by the host's mke2fs: every
 * sample file read back byte for byte, then writes, growth through
 * indirect blocks, the name-space operations and dir_index directories,
 * each followed by `e2fsck -fn` (nothing to fix) and a look with debugfs.
 * For 1 KiB and 4 KiB blocks (and reads with 2 KiB).
 */
#include <dirent.h>

#include "ext2_host.h"

/* Compares every file and directory under host dir `hpath` with fs path `fpath`. */
static void compare_tree(struct ext2_fs *fs, const char *hpath, const char *fpath, int *files)
{
	DIR *d = opendir(hpath);
	struct dirent *de;
	int host_entries = 0, fs_entries = 0;
	uint64_t cookie = 0;
	struct ext2_dirent e;
	uint32_t dino;

	HCHECK(d != NULL);
	HCHECK_EQ(ext2_lookup(fs, fpath[0] ? fpath : "/", &dino), 0);
	while (d && (de = readdir(d))) {
		char hp[1024], fp[1024];
		struct stat st;
		uint32_t ino;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		host_entries++;
		snprintf(hp, sizeof(hp), "%s/%s", hpath, de->d_name);
		snprintf(fp, sizeof(fp), "%s/%s", fpath, de->d_name);
		HCHECK(stat(hp, &st) == 0);
		HCHECK_EQ(ext2_lookup(fs, fp, &ino), 0);
		if (S_ISDIR(st.st_mode)) {
			compare_tree(fs, hp, fp, files);
			continue;
		}
		{
			uint8_t *want, *got;
			long n = slurp(hp, &want);
			struct ext2_stat es;
			long off = 0, step = 1;

			HCHECK_EQ(ext2_stat(fs, ino, &es), 0);
			HCHECK_EQ(es.size, n);
			got = calloc(1, (size_t)n + 4096);
			/* odd-sized reads that straddle block boundaries */
			while (off < n + 100) {
				long r = ext2_read(fs, ino, (uint64_t)off, got + off,
						   (size_t)(step * 1000 + 37));

				HCHECK(r >= 0);
				if (r <= 0)
					break;
				off += r;
				step = step % 7 + 1;
			}
			HCHECK_EQ(off, n);
			HCHECK(memcmp(got, want, (size_t)n) == 0);
			free(want);
			free(got);
			(*files)++;
		}
	}
	if (d)
		closedir(d);
	while (ext2_readdir(fs, dino, &cookie, &e) == 1)
		if (strcmp(e.name, ".") && strcmp(e.name, "..") && strcmp(e.name, "lost+found"))
			fs_entries++;
	HCHECK_EQ(fs_entries, host_entries);
}

static void read_samples(int bs)
{
	char name[32];
	const char *img;
	struct mnt *m = calloc(1, sizeof(*m));
	int files = 0;

	snprintf(name, sizeof(name), "samples%d.img", bs);
	img = make_image(name, bs, samples_dir(), 8192);
	HCHECK(img != NULL);
	if (!img)
		return;
	HCHECK_EQ(mnt_open(m, img, false), 0);
	HCHECK_EQ(m->fs.block_size, bs);
	compare_tree(&m->fs, samples_dir(), "", &files);
	HCHECK(files >= 5);
	mnt_close(m);
	free(m);
}

HTEST(read_samples_1k)
{
	read_samples(1024);
}

HTEST(read_samples_2k)
{
	read_samples(2048);
}

HTEST(read_samples_4k)
{
	read_samples(4096);
}

/* Writes `len` pattern bytes at off through ext2 and into the model buffer. */
static void put(struct ext2_fs *fs, uint32_t ino, uint8_t *model, uint64_t off, size_t len,
		unsigned seed)
{
	uint8_t *buf = malloc(len);

	fill_pattern(buf, len, off, seed);
	HCHECK_EQ(ext2_write(fs, ino, off, buf, len), (long)len);
	if (model)
		memcpy(model + off, buf, len);
	free(buf);
}

static void check_dump(const char *img, const char *path, const uint8_t *model, size_t len)
{
	uint8_t *got = malloc(len + 4096);
	long n = debugfs_dump(img, path, got, len + 4096);

	HCHECK_EQ(n, (long)len);
	HCHECK(n == (long)len && memcmp(got, model, len) == 0);
	free(got);
}

/* Overwrite, append, grow through single and double indirect blocks, holes. */
static void write_and_grow(int bs)
{
	/* into double indirect blocks */
	size_t size = bs == 1024 ? 700 * 1024 : bs == 2048 ? 1200 * 1024 : 4300 * 1024;
	uint8_t *model = calloc(1, size + 8192), *back = malloc(size + 8192);
	struct mnt *m = calloc(1, sizeof(*m));
	char name[32];
	const char *img;

	snprintf(name, sizeof(name), "grow%d.img", bs);
	img = make_image(name, bs, samples_dir(), 16384);
	struct ext2_statfs sf0, sf1;
	uint32_t ino, ino2;
	struct ext2_stat st;

	HCHECK_EQ(mnt_open(m, img, true), 0);
	ext2_statfs(&m->fs, &sf0);
	HCHECK_EQ(ext2_create(&m->fs, "/grow.bin", 0644, &ino), 0);
	/* in uneven pieces, appending */
	for (size_t off = 0; off < size;) {
		size_t n = 1 + (off * 7919 + 12345) % 20000;

		if (n > size - off)
			n = size - off;
		put(&m->fs, ino, model, off, n, 1);
		off += n;
	}
	/* overwrite across block boundaries, then a hole and a tail past the end */
	put(&m->fs, ino, model, (uint64_t)bs * 11 - 3, (size_t)bs * 3 + 10, 2);
	put(&m->fs, ino, model, size + 3000, 100, 3);
	size += 3100;
	HCHECK_EQ(ext2_stat(&m->fs, ino, &st), 0);
	HCHECK_EQ(st.size, size);
	HCHECK_EQ(ext2_read(&m->fs, ino, 0, back, size + 10), (long)size);
	HCHECK(memcmp(back, model, size) == 0);
	/* a sparse file whose one block sits behind triple indirect blocks (1 KiB) */
	HCHECK_EQ(ext2_create(&m->fs, "/sparse.bin", 0600, &ino2), 0);
	put(&m->fs, ino2, NULL, bs == 1024 ? 70ull << 20 : 5ull << 20, 5000, 4);
	HCHECK_EQ(ext2_sync(&m->fs), 0);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	check_dump(img, "/grow.bin", model, size);

	/* shrink back through the indirect levels; then delete */
	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK_EQ(ext2_truncate(&m->fs, ino, (uint64_t)bs * 12 + 5), 0);
	HCHECK_EQ(ext2_truncate(&m->fs, ino2, 4), 0);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	check_dump(img, "/grow.bin", model, (size_t)bs * 12 + 5);
	HCHECK_EQ(mnt_open(m, img, true), 0);
	/* grown again, the bytes after the old end read as zero */
	HCHECK_EQ(ext2_truncate(&m->fs, ino, (uint64_t)bs * 14), 0);
	memset(model + bs * 12 + 5, 0, (size_t)bs * 2);
	HCHECK_EQ(ext2_read(&m->fs, ino, 0, back, (size_t)bs * 14), bs * 14);
	HCHECK(memcmp(back, model, (size_t)bs * 14) == 0);
	HCHECK_EQ(ext2_unlink(&m->fs, "/grow.bin"), 0);
	HCHECK_EQ(ext2_unlink(&m->fs, "/sparse.bin"), 0);
	ext2_statfs(&m->fs, &sf1);
	HCHECK_EQ(sf1.free_blocks, sf0.free_blocks);
	HCHECK_EQ(sf1.free_inodes, sf0.free_inodes);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	free(model);
	free(back);
	free(m);
}

HTEST(write_and_grow_1k)
{
	write_and_grow(1024);
}

HTEST(write_and_grow_2k)
{
	write_and_grow(2048);
}

HTEST(write_and_grow_4k)
{
	write_and_grow(4096);
}

static bool debugfs_has(const char *img, const char *cmd, const char *needle)
{
	static char out[65536];

	run(out, sizeof(out), E2PATH "debugfs -R '%s' '%s' 2>&1", cmd, img);
	return strstr(out, needle) != NULL;
}

/* mkdir, create, rename (files, directories, over existing names), unlink, rmdir. */
static void names(int bs)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = make_image(bs == 1024 ? "names1k.img" : "names4k.img", bs,
				     samples_dir(), 8192);
	uint32_t ino, a, b;
	uint8_t text[] = "moved around\n";

	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK_EQ(ext2_mkdir(&m->fs, "/d1", 0755, &a), 0);
	HCHECK_EQ(ext2_mkdir(&m->fs, "/d1/d2/", 0755, &b), 0);
	HCHECK_EQ(ext2_mkdir(&m->fs, "/d1", 0755, &ino), ERR_EXIST);
	HCHECK_EQ(ext2_create(&m->fs, "/d1/d2/f", 0644, &ino), 0);
	HCHECK_EQ(ext2_write(&m->fs, ino, 0, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	HCHECK_EQ(ext2_create(&m->fs, "/nodir/f", 0644, &ino), ERR_NOENT);
	HCHECK_EQ(ext2_create(&m->fs, "/hello.txt/f", 0644, &ino), ERR_INVAL);
	HCHECK_EQ(ext2_create(&m->fs, "/", 0644, &ino), ERR_INVAL);
	/* many entries: the directory grows past one block */
	for (int i = 0; i < 120; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/d1/a-rather-long-file-name-number-%03d", i);
		HCHECK_EQ(ext2_create(&m->fs, p, 0644, &ino), 0);
	}
	for (int i = 0; i < 120; i += 2) {
		char p[64];

		snprintf(p, sizeof(p), "/d1/a-rather-long-file-name-number-%03d", i);
		HCHECK_EQ(ext2_unlink(&m->fs, p), 0);
	}
	HCHECK_EQ(ext2_rename(&m->fs, "/d1/d2/f", "/d1/g"), 0);
	HCHECK_EQ(ext2_lookup(&m->fs, "/d1/d2/f", &ino), ERR_NOENT);
	HCHECK_EQ(ext2_rename(&m->fs, "/d1/g", "/hello.txt"), 0);	/* replaces */
	HCHECK_EQ(ext2_rename(&m->fs, "/d1", "/d1/d2/x"), ERR_INVAL);	/* into itself */
	HCHECK_EQ(ext2_rename(&m->fs, "/d1/d2", "/docs/d2"), 0);	/* a directory moves */
	HCHECK_EQ(ext2_lookup(&m->fs, "/docs/d2/..", &ino), 0);
	HCHECK_EQ(ino, ext2_lookup(&m->fs, "/docs", &a) == 0 ? a : 0);
	HCHECK_EQ(ext2_mkdir(&m->fs, "/e", 0755, &ino), 0);
	HCHECK_EQ(ext2_rename(&m->fs, "/docs/d2", "/e"), 0);	/* over an empty directory */
	HCHECK_EQ(ext2_rename(&m->fs, "/e", "/docs"), ERR_NOTEMPTY);
	HCHECK_EQ(ext2_rename(&m->fs, "/hello.txt", "/docs"), ERR_INVAL);
	HCHECK_EQ(ext2_unlink(&m->fs, "/docs"), ERR_NOTEMPTY);
	HCHECK_EQ(ext2_unlink(&m->fs, "/docs/notes/deep/leaf.txt"), 0);
	HCHECK_EQ(ext2_unlink(&m->fs, "/docs/notes/deep"), 0);
	HCHECK_EQ(ext2_unlink(&m->fs, "/docs/notes/deep"), ERR_NOENT);
	HCHECK_EQ(ext2_unlink(&m->fs, "/d1/.."), ERR_INVAL);
	HCHECK_EQ(ext2_rename(&m->fs, "/hello.txt", "/hello.txt"), 0);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	check_dump(img, "/hello.txt", text, sizeof(text) - 1);
	HCHECK(debugfs_has(img, "ls -l /d1", "a-rather-long-file-name-number-119"));
	HCHECK(!debugfs_has(img, "ls -l /d1", "a-rather-long-file-name-number-118"));
	HCHECK(debugfs_has(img, "ls -l /e", ".."));
	free(m);
}

HTEST(names_1k)
{
	names(1024);
}

HTEST(names_4k)
{
	names(4096);
}

/* Filling the disk gives ERR_NOSPC and a consistent fs; deleting gives it all back. */
static void full_disk(int bs)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = make_image(bs == 1024 ? "full1k.img" : "full4k.img", bs, NULL, 2048);
	uint8_t *buf = malloc(65536);
	struct ext2_statfs sf0, sf1;
	uint32_t ino;
	long r = 0;
	int nfiles = 0;

	fill_pattern(buf, 65536, 0, 9);
	HCHECK_EQ(mnt_open(m, img, true), 0);
	ext2_statfs(&m->fs, &sf0);
	for (int f = 0; f < 100 && r >= 0; f++) {
		char p[32];
		uint64_t off = 0;

		snprintf(p, sizeof(p), "/f%d", f);
		r = ext2_create(&m->fs, p, 0644, &ino);
		if (r < 0)
			break;
		nfiles++;
		while ((r = ext2_write(&m->fs, ino, off, buf, 65536)) == 65536)
			off += 65536;
		if (r >= 0 && r < 65536)
			r = ext2_write(&m->fs, ino, off + (uint64_t)r, buf, 65536);
	}
	HCHECK_EQ(r, ERR_NOSPC);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	HCHECK_EQ(mnt_open(m, img, true), 0);
	for (int f = 0; f < nfiles; f++) {
		char p[32];

		snprintf(p, sizeof(p), "/f%d", f);
		HCHECK_EQ(ext2_unlink(&m->fs, p), 0);
	}
	ext2_statfs(&m->fs, &sf1);
	HCHECK_EQ(sf1.free_blocks, sf0.free_blocks);
	HCHECK_EQ(sf1.free_inodes, sf0.free_inodes);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	free(buf);
	free(m);
}

HTEST(full_disk_1k)
{
	full_disk(1024);
}

HTEST(full_disk_4k)
{
	full_disk(4096);
}

/* A hashed directory (e2fsck -D builds the index) stays valid after we change it. */
static void dir_index(int bs)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *src = tmp_path(bs == 1024 ? "many1k" : "many4k");
	const char *img;
	uint32_t ino;
	char p[600];

	run(NULL, 0, "mkdir -p %s/big && cd %s/big && for i in $(seq 1 400); do "
		     "echo $i > file-with-a-long-name-$i; done", src, src);
	img = make_image(bs == 1024 ? "index1k.img" : "index4k.img", bs, src, 8192);
	HCHECK(img != NULL);
	run(NULL, 0, E2PATH "e2fsck -fyD '%s' >/dev/null 2>&1", img);
	HCHECK(fsck_clean(img));
	HCHECK(debugfs_has(img, "stat /big", "Flags: 0x1000"));	/* indexed */
	HCHECK_EQ(mnt_open(m, img, true), 0);
	for (int i = 1; i <= 400; i += 37) {
		snprintf(p, sizeof(p), "/big/file-with-a-long-name-%d", i);
		HCHECK_EQ(ext2_lookup(&m->fs, p, &ino), 0);
		HCHECK_EQ(ext2_unlink(&m->fs, p), 0);
	}
	HCHECK_EQ(ext2_create(&m->fs, "/big/a-newcomer", 0644, &ino), 0);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	HCHECK(!debugfs_has(img, "stat /big", "Flags: 0x1000"));
	HCHECK(debugfs_has(img, "ls /big", "a-newcomer"));
	free(m);
}

HTEST(dir_index_1k)
{
	dir_index(1024);
}

HTEST(dir_index_4k)
{
	dir_index(4096);
}

/* A file with an extended attribute block: unlinking it releases the block. */
HTEST(xattr_block_released)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = make_image("xattr.img", 1024, samples_dir(), 4096);
	struct ext2_statfs sf0, sf1;

	/* a big value does not fit in the inode: it goes to a block */
	run(NULL, 0, E2PATH "debugfs -w -R 'ea_set /hello.txt user.note %0200d' '%s' >/dev/null 2>&1",
	    0, img);
	run(NULL, 0, E2PATH "debugfs -w -R 'ea_set /hello.txt user.note2 %0200d' '%s' >/dev/null 2>&1",
	    0, img);
	HCHECK(debugfs_has(img, "stat /hello.txt", "File ACL: "));
	HCHECK(!debugfs_has(img, "stat /hello.txt", "File ACL: 0"));
	HCHECK_EQ(mnt_open(m, img, true), 0);
	ext2_statfs(&m->fs, &sf0);
	HCHECK_EQ(ext2_unlink(&m->fs, "/hello.txt"), 0);
	ext2_statfs(&m->fs, &sf1);
	HCHECK_EQ(sf1.free_blocks, sf0.free_blocks + 2);	/* data and attributes */
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	free(m);
}

/* Read-only mounts refuse every change. */
HTEST(read_only_mount)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = make_image("ro.img", 4096, samples_dir(), 4096);
	uint32_t ino;

	HCHECK_EQ(mnt_open(m, img, false), 0);
	HCHECK_EQ(ext2_create(&m->fs, "/x", 0644, &ino), ERR_ROFS);
	HCHECK_EQ(ext2_lookup(&m->fs, "/hello.txt", &ino), 0);
	HCHECK_EQ(ext2_write(&m->fs, ino, 0, "x", 1), ERR_ROFS);
	HCHECK_EQ(ext2_unlink(&m->fs, "/hello.txt"), ERR_ROFS);
	HCHECK_EQ(ext2_rename(&m->fs, "/hello.txt", "/y"), ERR_ROFS);
	HCHECK_EQ(ext2_mkdir(&m->fs, "/d", 0755, &ino), ERR_ROFS);
	mnt_close(m);
	HCHECK(fsck_clean(img));
	free(m);
}

/* Older layouts: revision 0 (128-byte inodes, no features) and rev 1 without filetype. */
static void old_layout(const char *name, const char *opts)
{
	struct mnt *m = calloc(1, sizeof(*m));
	const char *img = tmp_path(name);
	uint8_t text[] = "an old layout\n", back[32];
	uint32_t ino, dir;
	struct ext2_dirent e;
	uint64_t cookie = 0;
	int found = 0;

	HCHECK_EQ(run(NULL, 0, E2PATH "mke2fs -q -F -t ext2 %s '%s' 4096k >/dev/null 2>&1", opts, img),
		  0);
	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK_EQ(ext2_mkdir(&m->fs, "/d", 0755, &dir), 0);
	HCHECK_EQ(ext2_create(&m->fs, "/d/f", 0644, &ino), 0);
	HCHECK_EQ(ext2_write(&m->fs, ino, 20000, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	HCHECK_EQ(ext2_rename(&m->fs, "/d/f", "/g"), 0);
	while (ext2_readdir(&m->fs, EXT2_ROOT_INO, &cookie, &e) == 1)
		found += !strcmp(e.name, "g") && e.ino == ino;
	HCHECK_EQ(found, 1);
	HCHECK_EQ(ext2_read(&m->fs, ino, 20000, back, sizeof(back)), (long)sizeof(text) - 1);
	HCHECK(memcmp(back, text, sizeof(text) - 1) == 0);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	free(m);
}

HTEST(revision_0)
{
	old_layout("rev0.img", "-r 0");
}

HTEST(no_filetype)
{
	old_layout("nofiletype.img", "-O ^filetype,^dir_index,^resize_inode,^ext_attr -I 128");
}

/*
 * The pagers' block map (fs_pager.c): ext2_file_blocks maps a range from
 * one read of the inode, through direct, indirect and double indirect
 * blocks and holes, exactly as block by block; with `alloc` it fills the
 * holes (one inode write) and what was there stays; and a handle's stat
 * answers from one read only for a live inode of that generation.
 */
static void file_blocks(int bs)
{
	struct mnt *m = calloc(1, sizeof(*m));
	char name[32];
	const char *img;
	uint32_t ino, per = (uint32_t)bs / 4, first = 9, n = 12 + per + 8 - first;
	static uint32_t many[2048];
	uint32_t one;
	uint64_t size, size1;
	struct ext2_stat st;

	snprintf(name, sizeof(name), "fblocks%d.img", bs);
	img = make_image(name, bs, samples_dir(), 8192);
	HCHECK_EQ(mnt_open(m, img, true), 0);
	HCHECK_EQ(ext2_create(&m->fs, "/map.bin", 0644, &ino), 0);
	/* blocks 0..first+n, with holes at 10 and at 12 + per + 2 (the double indirect's) */
	for (uint32_t b = 0; b < first + n; b++)
		if (b != 10 && b != 12 + per + 2)
			put(&m->fs, ino, NULL, (uint64_t)b * (uint64_t)bs, 8, b);
	HCHECK_EQ(ext2_file_blocks(&m->fs, ino, first, n, false, many, &size), 0);
	for (uint32_t i = 0; i < n; i++) {
		HCHECK_EQ(ext2_file_block(&m->fs, ino, first + i, false, &one, &size1), 0);
		HCHECK_EQ(many[i], one);
		HCHECK_EQ(size1, size);
		HCHECK_EQ(many[i] == 0, first + i == 10 || first + i == 12 + per + 2);
	}
	HCHECK_EQ(ext2_file_blocks(&m->fs, ino, first, n, true, many, &size), 0);
	for (uint32_t i = 0; i < n; i++) {
		HCHECK(many[i] != 0);
		HCHECK_EQ(ext2_file_block(&m->fs, ino, first + i, false, &one, &size1), 0);
		HCHECK_EQ(many[i], one);
	}
	HCHECK_EQ(ext2_stat(&m->fs, ino, &st), 0);
	HCHECK_EQ(ext2_stat_handle(&m->fs, ino, st.generation, &st), 0);
	HCHECK_EQ(st.size, size);
	HCHECK_EQ(ext2_stat_handle(&m->fs, ino, st.generation + 1, &st), ERR_BADHANDLE);
	HCHECK_EQ(ext2_stat_handle(&m->fs, 0, 0, &st), ERR_BADHANDLE);
	HCHECK_EQ(ext2_stat_handle(&m->fs, m->fs.inodes_count + 1, 0, &st), ERR_BADHANDLE);
	HCHECK_EQ(ext2_sync(&m->fs), 0);
	HCHECK_EQ(mnt_close(m), 0);
	HCHECK(fsck_clean(img));
	free(m);
}

HTEST(file_blocks_1k)
{
	file_blocks(1024);
}

HTEST(file_blocks_4k)
{
	file_blocks(4096);
}
