// SPDX-License-Identifier: MIT
/*
 * sh's file commands.  `sum` reads a file twice, through file_read() and
 * through a mapping (page faults served by fs), and prints both CRC-32s
 * (zlib's, as Python's zlib.crc32 computes it): they must match, in every
 * fill mode.
 */
#include <ferry/sys.h>
#include <file.h>
#include <proc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sh.h"

#define IO_CHUNK	(64 * 1024)
#define PAGE		4096ul

static uint8_t io_buf[IO_CHUNK];

static void fail(const char *cmd, const char *what, long err)
{
	printf("%s: %s: %s\n", cmd, what, err_str(err));
}

static char type_char(uint32_t mode)
{
	switch (FS_MODE_TYPE(mode)) {
	case FS_TYPE_DIR:
		return 'd';
	case FS_TYPE_LNK:
		return 'l';
	case FS_TYPE_REG:
		return '-';
	default:
		return '?';
	}
}

/* "/a" + "b" => "/a/b" */
static void join(char *out, size_t size, const char *dir, const char *name)
{
	size_t n = strlen(dir);

	snprintf(out, size, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

void cmd_ls(int argc, char **argv)
{
	static struct fs_dirent ents[FS_DIRENTS_PER_PAGE];
	const char *dir = argc > 1 ? argv[1] : "/";
	struct file_stat st;
	long fd, n, err = file_stat(dir, &st);

	if (err) {
		fail("ls", dir, err);
		return;
	}
	if (FS_MODE_TYPE(st.mode) != FS_TYPE_DIR) {
		printf("%c %10llu %s\n", type_char(st.mode), (unsigned long long)st.size, dir);
		return;
	}
	fd = file_open(dir, O_RDONLY);
	if (fd < 0) {
		fail("ls", dir, fd);
		return;
	}
	while ((n = file_readdir((int)fd, ents, FS_DIRENTS_PER_PAGE)) > 0) {
		for (long i = 0; i < n; i++) {
			char path[FS_PATH_MAX + 1];

			if (!strcmp(ents[i].fd_name, ".") || !strcmp(ents[i].fd_name, ".."))
				continue;
			join(path, sizeof(path), dir, ents[i].fd_name);
			err = file_stat(path, &st);
			if (err)
				printf("? %10s %s (%s)\n", "", ents[i].fd_name, err_str(err));
			else
				printf("%c %10llu %s\n", type_char(st.mode),
				       (unsigned long long)st.size, ents[i].fd_name);
		}
	}
	if (n < 0)
		fail("ls", dir, n);
	file_close((int)fd);
}

void cmd_cat(int argc, char **argv)
{
	long fd, n;

	if (argc != 2) {
		printf("usage: cat FILE\n");
		return;
	}
	fd = file_open(argv[1], O_RDONLY);
	if (fd < 0) {
		fail("cat", argv[1], fd);
		return;
	}
	while ((n = file_read((int)fd, io_buf, sizeof(io_buf))) > 0)
		for (long off = 0; off < n; off += CONSOLE_IO_MAX) {
			stdout_flush();
			sys_console_write(io_buf + off, n - off < CONSOLE_IO_MAX ? n - off
									: CONSOLE_IO_MAX);
		}
	if (n < 0)
		fail("cat", argv[1], n);
	file_close((int)fd);
}

/* The words from argv[from] on, joined by spaces; => length. */
static size_t join_words(char *out, size_t size, int argc, char **argv, int from)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = from; i < argc && n + 1 < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i > from ? " " : "", argv[i]);
	return n < size ? n : size - 1;
}

/* write FILE TEXT: the file becomes TEXT and a newline; append FILE TEXT adds them. */
void cmd_write(int argc, char **argv)
{
	bool append = !strcmp(argv[0], "append");
	char text[300];
	size_t n;
	long fd, ret;

	if (argc < 2) {
		printf("usage: %s FILE [TEXT...]\n", argv[0]);
		return;
	}
	n = join_words(text, sizeof(text) - 1, argc, argv, 2);
	text[n++] = '\n';
	fd = file_open(argv[1], O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC));
	if (fd < 0) {
		fail(argv[0], argv[1], fd);
		return;
	}
	ret = file_write((int)fd, text, n);
	if (ret < 0)
		fail(argv[0], argv[1], ret);
	else if ((size_t)ret < n)
		printf("%s: %s: only %ld of %zu bytes written (disk full)\n", argv[0], argv[1], ret, n);
	file_close((int)fd);
}

/*
 * mmwrite [-p|-u|-x] FILE OFFSET TEXT: TEXT into the file through a mapping.
 * Shared by default and written back by msync; -u leaves it to munmap, -x
 * to the shell's exit (init starts a new shell); -p maps privately: the
 * file does not change.
 */
void cmd_mmwrite(int argc, char **argv)
{
	char how = argc > 1 && argv[1][0] == '-' ? argv[1][1] : 's';
	int a = how == 's' ? 1 : 2;
	char text[300];
	struct file_stat st;
	uint64_t off, first, len;
	size_t n;
	long fd, addr, err;

	if (argc < a + 3 || !strchr("spux", how) || str_to_u64(argv[a + 1], 0, &off, NULL)) {
		printf("usage: mmwrite [-p|-u|-x] FILE OFFSET TEXT...\n");
		return;
	}
	n = join_words(text, sizeof(text), argc, argv, a + 2);
	fd = file_open(argv[a], O_RDWR);
	if (fd < 0) {
		fail("mmwrite", argv[a], fd);
		return;
	}
	err = file_fstat((int)fd, &st);
	first = off & ~(PAGE - 1);
	len = (off + n - first + PAGE - 1) & ~(PAGE - 1);
	if (!err && off + n > st.size) {
		printf("mmwrite: %s has %llu bytes: a mapping cannot write past the end\n", argv[a],
		       (unsigned long long)st.size);
		file_close((int)fd);
		return;
	}
	addr = err ? err : file_mmap((int)fd, first, len,
				     PROT_READ | PROT_WRITE | (how == 'p' ? MAP_PRIVATE : 0));
	file_close((int)fd);
	if (addr < 0) {
		fail("mmwrite", argv[a], addr);
		return;
	}
	memcpy((char *)addr + (off - first), text, n);
	printf("mmwrite: %zu bytes at %llu of %s, through a %s mapping\n", n,
	       (unsigned long long)off, argv[a], how == 'p' ? "private" : "shared");
	if (how == 'x') {
		printf("mmwrite: exiting with the mapping in place\n");
		exit(0);
	}
	err = how == 's' ? file_msync((void *)addr, len) : 0;
	if (err)
		fail("mmwrite", "msync", err);
	err = file_munmap((void *)addr, len);
	if (err)
		fail("mmwrite", "munmap", err);
}

void cmd_mkdir(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long err = file_mkdir(argv[i]);

		if (err)
			fail("mkdir", argv[i], err);
	}
}

void cmd_rm(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long err = file_unlink(argv[i]);

		if (err)
			fail("rm", argv[i], err);
	}
}

void cmd_mv(int argc, char **argv)
{
	long err;

	if (argc != 3) {
		printf("usage: mv FROM TO\n");
		return;
	}
	err = file_rename(argv[1], argv[2]);
	if (err)
		fail("mv", argv[1], err);
}

void cmd_df(int argc, char **argv)
{
	struct file_statfs sf;
	long err = file_statfs(&sf);

	(void)argc;
	(void)argv;
	if (err) {
		fail("df", "/", err);
		return;
	}
	printf("%llu-byte blocks: %llu of %llu free; inodes: %llu of %llu free%s\n",
	       (unsigned long long)sf.block_size, (unsigned long long)sf.free_blocks,
	       (unsigned long long)sf.blocks, (unsigned long long)sf.free_inodes,
	       (unsigned long long)sf.inodes, sf.read_only ? "; read-only" : "");
}

/* peek FILE OFFSET: one byte through a mapping; past the end of the file the shell dies. */
void cmd_peek(int argc, char **argv)
{
	uint64_t off, first;
	long fd, addr;

	if (argc != 3 || str_to_u64(argv[2], 0, &off, NULL)) {
		printf("usage: peek FILE OFFSET\n");
		return;
	}
	fd = file_open(argv[1], O_RDONLY);
	if (fd < 0) {
		fail("peek", argv[1], fd);
		return;
	}
	first = off & ~(PAGE - 1);
	addr = file_mmap((int)fd, first, PAGE, PROT_READ);
	file_close((int)fd);
	if (addr < 0) {
		fail("peek", "mmap", addr);
		return;
	}
	stdout_flush();
	printf("peek %s %llu: %#x\n", argv[1], (unsigned long long)off,
	       ((volatile uint8_t *)addr)[off - first]);
	file_munmap((void *)addr, PAGE);
}

static const char *const mode_names[] = { [FILL_COPY] = "copy", [FILL_GRANT_MAP] = "grant",
					  [FILL_GRANT_DMA] = "dma" };

static long mode_of(const char *name)
{
	for (long m = 0; m < FILL_NMODES; m++)
		if (!strcmp(name, mode_names[m]))
			return m;
	return ERR_INVAL;
}

/* mode [copy|grant|dma]: how page faults that need a pager are filled. */
void cmd_mode(int argc, char **argv)
{
	long m = argc > 1 ? mode_of(argv[1]) : 0, err;

	if (argc > 2 || m < 0) {
		printf("usage: mode [copy|grant|dma]\n");
		return;
	}
	if (argc > 1) {
		err = sys_vm_ctl(VM_CTL_FAULTPATH_SET, m, NULL);
		if (err) {
			fail("mode", argv[1], err);
			return;
		}
	}
	m = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL);
	printf("fault path: %s\n", m >= 0 && m < FILL_NMODES ? mode_names[m] : "?");
}

/* --- sum --- */

static uint32_t crc_table[256];

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	if (!crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			crc_table[i] = c;
		}
	}
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

static long sum_read(int fd, uint64_t *bytes, uint32_t *crc)
{
	long n;

	*crc = 0;
	*bytes = 0;
	while ((n = file_read(fd, io_buf, sizeof(io_buf))) > 0) {
		*crc = crc32_update(*crc, io_buf, (size_t)n);
		*bytes += (uint64_t)n;
	}
	return n;
}

static long sum_mmap(int fd, uint64_t size, uint32_t *crc)
{
	uint64_t len = (size + PAGE - 1) & ~(PAGE - 1);
	long addr;

	*crc = 0;
	if (size == 0)
		return 0;
	addr = file_mmap(fd, 0, len, PROT_READ);
	if (addr < 0)
		return addr;
	*crc = crc32_update(0, (const uint8_t *)addr, size);
	return file_munmap((void *)addr, len);
}

/* sum FILE [copy|grant|dma]: the mapping's pass in that fill mode (then back). */
void cmd_sum(int argc, char **argv)
{
	long mode = argc > 2 ? mode_of(argv[2]) : sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL);
	long old = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), fd, err;
	uint32_t crc_r, crc_m;
	struct file_stat st;
	uint64_t bytes, t0, t1, t2;

	if (argc < 2 || argc > 3 || mode < 0 || mode >= FILL_NMODES) {
		printf("usage: sum FILE [copy|grant|dma]\n");
		return;
	}
	fd = file_open(argv[1], O_RDONLY);
	if (fd < 0) {
		fail("sum", argv[1], fd);
		return;
	}
	err = file_fstat((int)fd, &st);
	t0 = (uint64_t)sys_clock_ns();
	if (!err)
		err = sum_read((int)fd, &bytes, &crc_r);
	t1 = (uint64_t)sys_clock_ns();
	if (!err && mode != old)
		err = sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, NULL);
	if (!err)
		err = sum_mmap((int)fd, st.size, &crc_m);
	t2 = (uint64_t)sys_clock_ns();
	if (mode != old)
		sys_vm_ctl(VM_CTL_FAULTPATH_SET, old, NULL);
	file_close((int)fd);
	if (err) {
		fail("sum", argv[1], err);
		return;
	}
	printf("sum %s: %llu bytes; read %08x (%llu ms); mmap %08x (%s, %llu ms): %s\n", argv[1],
	       (unsigned long long)bytes, crc_r, (unsigned long long)((t1 - t0) / MSEC_NS), crc_m,
	       mode_names[mode], (unsigned long long)((t2 - t1) / MSEC_NS),
	       crc_r == crc_m && bytes == st.size ? "match" : "MISMATCH");
}
