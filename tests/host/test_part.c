// SPDX-License-Identifier: MIT
/*
 * lib/user/part.c, the partition library every disk driver shares: MBR
 * and GPT tables from a fake disk in memory, the signature probes (swap,
 * ext2, FAT), and the policy that gives partitions to programs by what
 * they hold, with explicit arguments as an override.
 */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../lib/user/part.c"

static char logbuf[8192];

static void log_line(void *ctx, const char *line)
{
	size_t len = strlen(logbuf);

	(void)ctx;
	snprintf(logbuf + len, sizeof(logbuf) - len, "%s\n", line);
}

#define DISK_SECTORS	4096

static uint8_t image[DISK_SECTORS * 512];
static int reads;

static long read_image(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
	(void)ctx;
	reads++;
	if (lba > DISK_SECTORS || count > DISK_SECTORS - lba)
		return ERR_RANGE;
	memcpy(buf, image + lba * 512, (size_t)count * 512);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void mbr_entry(int i, uint8_t type, uint32_t start, uint32_t count)
{
	uint8_t *e = image + 446 + 16 * i;

	e[4] = type;
	put32(e + 8, start);
	put32(e + 12, count);
	image[510] = 0x55;
	image[511] = 0xAA;
}

static struct part_table disk;
static uint8_t scanbuf[PART_SCAN_BUF];
static const struct part_disk fake = { .name = "disk0", .sectors = DISK_SECTORS,
				       .read = read_image, .log = log_line };

static long scan(void)
{
	logbuf[0] = '\0';
	return part_scan(&disk, &fake, scanbuf);
}

static void reset_image(void)
{
	memset(image, 0, sizeof(image));
}

HTEST(mbr_primary_partitions)
{
	reset_image();
	mbr_entry(0, 0x82, 2048, 1024);
	mbr_entry(1, 0x83, 3072, 1024);
	HCHECK_EQ(scan(), 0);
	HCHECK(strcmp(disk.scheme, "MBR") == 0);
	HCHECK(disk.part[0].present && disk.part[0].sectors == DISK_SECTORS);
	HCHECK(disk.part[1].present && disk.part[1].type == 0x82);
	HCHECK_EQ(disk.part[1].start, 2048);
	HCHECK_EQ(disk.part[1].sectors, 1024);
	HCHECK(disk.part[2].present && disk.part[2].type == 0x83);
	HCHECK(!disk.part[3].present && !disk.part[4].present);
	HCHECK_EQ(logbuf[0], '\0');
}

HTEST(no_signature_no_table)
{
	reset_image();
	mbr_entry(0, 0x83, 100, 100);
	image[511] = 0;
	HCHECK_EQ(scan(), 0);
	HCHECK(strcmp(disk.scheme, "none") == 0);
	HCHECK(!disk.part[1].present);
	HCHECK(disk.part[0].present);
}

HTEST(entries_outside_the_disk_are_dropped)
{
	reset_image();
	mbr_entry(0, 0x83, 4000, 200);		/* runs past the end */
	mbr_entry(1, 0x83, 5000, 10);		/* starts past the end */
	mbr_entry(2, 0x83, 0, 10);		/* overlaps the MBR */
	mbr_entry(3, 0x83, 0xFFFFFFF0u, 0x20);	/* wraps in 32 bits */
	HCHECK_EQ(scan(), 0);
	for (int i = 1; i <= 4; i++)
		HCHECK(!disk.part[i].present);
	HCHECK(strstr(logbuf, "partition 1 (type 0x83, 200 sectors at 4000) is outside the disk"));
	HCHECK(strstr(logbuf, "partition 3"));
}

HTEST(extended_partition_is_logged_not_served)
{
	reset_image();
	mbr_entry(0, 0x05, 100, 100);
	mbr_entry(1, 0x83, 300, 100);
	HCHECK_EQ(scan(), 0);
	HCHECK(!disk.part[1].present);
	HCHECK(disk.part[2].present);
	HCHECK(strstr(logbuf, "partition 1 is extended"));
}

static long read_fails(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
	(void)ctx;
	(void)lba;
	(void)count;
	(void)buf;
	return ERR_IO;
}

HTEST(read_error_is_returned)
{
	struct part_table t;
	struct part_disk bad = fake;

	bad.read = read_fails;
	HCHECK_EQ(part_scan(&t, &bad, scanbuf), ERR_IO);
	HCHECK(strcmp(t.scheme, "none") == 0);
	HCHECK(t.part[0].present && !t.part[1].present);
}

/* --- GPT --- */

static const uint8_t guid_swap[16] = { 0x6D, 0xFD, 0x57, 0x06, 0xAB, 0xA4, 0xC4, 0x43,
				       0x84, 0xE5, 0x09, 0x33, 0xC8, 0x4B, 0x4F, 0x4F };
static const uint8_t guid_linux[16] = { 0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
					0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4 };
static const uint8_t guid_other[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void gpt_entry(int i, const uint8_t type[16], uint64_t first, uint64_t last)
{
	uint8_t *e = image + 2 * 512 + i * 128;

	memcpy(e, type, 16);
	e[16] = (uint8_t)(i + 1);	/* unique GUID: anything non-zero */
	put64(e + 32, first);
	put64(e + 40, last);
}

/* Protective MBR, header at LBA 1, 128 entries from LBA 2, CRCs right. */
static void gpt_seal(void)
{
	uint8_t *h = image + 512;

	mbr_entry(0, 0xEE, 1, DISK_SECTORS - 1);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, 92);
	put64(h + 24, 1);
	put64(h + 32, DISK_SECTORS - 1);
	put64(h + 40, 34);
	put64(h + 48, DISK_SECTORS - 34);
	put64(h + 72, 2);
	put32(h + 80, 128);
	put32(h + 84, 128);
	put32(h + 88, part_crc32(image + 2 * 512, 128 * 128));
	put32(h + 16, 0);
	put32(h + 16, part_crc32(h, 92));
}

HTEST(gpt_partitions_and_types)
{
	reset_image();
	gpt_entry(0, guid_swap, 34, 1033);
	gpt_entry(1, guid_linux, 1034, 2057);
	gpt_entry(3, guid_other, 2058, 2100);	/* entry 3 unused: numbering follows use */
	gpt_seal();
	HCHECK_EQ(scan(), 0);
	HCHECK(strcmp(disk.scheme, "GPT") == 0);
	HCHECK(disk.part[1].present && disk.part[1].type == 0x82);
	HCHECK_EQ(disk.part[1].start, 34);
	HCHECK_EQ(disk.part[1].sectors, 1000);
	HCHECK(disk.part[2].present && disk.part[2].type == 0x83);
	HCHECK(disk.part[3].present && disk.part[3].type == 0x7F);
	HCHECK(!disk.part[4].present);
}

HTEST(gpt_bad_crc_gives_no_partitions)
{
	reset_image();
	gpt_entry(0, guid_linux, 34, 100);
	gpt_seal();
	image[2 * 512 + 40] ^= 1;	/* an entry changed after the CRC */
	HCHECK_EQ(scan(), 0);
	HCHECK(!disk.part[1].present);
	HCHECK(strstr(logbuf, "no valid GPT"));
	reset_image();
	gpt_entry(0, guid_linux, 34, 100);
	gpt_seal();
	image[512 + 40] ^= 1;		/* the header changed after its CRC */
	HCHECK_EQ(scan(), 0);
	HCHECK(!disk.part[1].present);
}

HTEST(gpt_entry_outside_usable_area_dropped)
{
	reset_image();
	gpt_entry(0, guid_linux, 10, 100);		/* before first usable */
	gpt_entry(1, guid_linux, 200, DISK_SECTORS);	/* past last usable */
	gpt_entry(2, guid_linux, 300, 200);		/* reversed */
	gpt_entry(3, guid_swap, 400, 499);
	gpt_seal();
	HCHECK_EQ(scan(), 0);
	HCHECK(!disk.part[1].present && !disk.part[2].present && !disk.part[3].present);
	HCHECK(disk.part[4].present && disk.part[4].sectors == 100);
	HCHECK(strstr(logbuf, "GPT partition 1 outside the usable area"));
}

HTEST(gpt_absurd_header_fields_refused)
{
	reset_image();
	gpt_entry(0, guid_linux, 34, 100);
	gpt_seal();
	put32(image + 512 + 80, 100000);	/* entries: far more than we read */
	put32(image + 512 + 16, 0);
	put32(image + 512 + 16, part_crc32(image + 512, 92));
	HCHECK_EQ(scan(), 0);
	HCHECK(!disk.part[1].present);
}

HTEST(crc32_check_value)
{
	HCHECK_EQ(part_crc32("123456789", 9), 0xCBF43926u);
	HCHECK_EQ(part_crc32("", 0), 0);
}

/* --- what is on a partition --- */

static void put_swap(uint64_t lba, uint8_t id)
{
	uint8_t *p = image + lba * 512;

	memset(p, 0, 4096);
	put32(p + 1024, 1);			/* version */
	put32(p + 1028, 100);			/* last_page */
	memset(p + 1036, id, 16);		/* UUID */
	memcpy(p + 4086, "SWAPSPACE2", 10);
}

static void put_ext2(uint64_t lba, uint8_t id)
{
	uint8_t *p = image + lba * 512;

	memset(p, 0, 4096);
	p[1080] = 0x53;				/* s_magic 0xEF53 */
	p[1081] = 0xEF;
	memset(p + 1128, id, 16);		/* s_uuid */
}

static void put_fat(uint64_t lba)
{
	uint8_t *p = image + lba * 512;

	memset(p, 0, 4096);
	p[0] = 0xEB;
	p[1] = 0x3C;
	p[2] = 0x90;
	p[11] = 0x00;				/* 512 bytes per sector */
	p[12] = 0x02;
	p[13] = 4;				/* sectors per cluster */
	memcpy(p + 54, "FAT16   ", 8);
	p[510] = 0x55;
	p[511] = 0xAA;
}

static void probe(void)
{
	HCHECK_EQ(scan(), 0);
	part_probe_all(&disk, &fake, scanbuf);
}

HTEST(probe_fat_ext2_swap_by_signature_not_type)
{
	reset_image();
	/* Type bytes that say nothing (or the wrong thing): the contents decide. */
	mbr_entry(0, 0x0C, 100, 100);
	mbr_entry(1, 0x83, 300, 100);
	mbr_entry(2, 0x83, 500, 100);
	mbr_entry(3, 0x82, 700, 100);
	put_fat(100);
	put_ext2(300, 0x22);
	put_swap(500, 0x11);			/* swap where the type says Linux data */
	probe();
	HCHECK_EQ(disk.part[1].content, PART_FAT);
	HCHECK_EQ(disk.part[2].content, PART_EXT2);
	HCHECK_EQ(disk.part[2].uuid[0], 0x22);
	HCHECK_EQ(disk.part[2].uuid[15], 0x22);
	HCHECK_EQ(disk.part[3].content, PART_SWAP);
	HCHECK_EQ(disk.part[3].uuid[0], 0x11);
	HCHECK_EQ(disk.part[4].content, PART_UNKNOWN);	/* type 0x82, but all zeros */
	HCHECK_EQ(disk.part[4].uuid[0], 0);
	HCHECK(strcmp(part_content_name(PART_SWAP), "swap area") == 0);
}

HTEST(probe_near_misses_are_unknown)
{
	uint8_t page[4096], uuid[16];

	memset(page, 0, sizeof(page));
	memcpy(page + 4086, "SWAPSPACE", 9);		/* one byte short */
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	memcpy(page + 4086, "SWAPSPACE2", 10);
	HCHECK_EQ(part_probe(page, 2048, uuid), PART_UNKNOWN);	/* magic not read */
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_SWAP);
	memset(page, 0, sizeof(page));
	page[1080] = 0x53;
	page[1081] = 0xEE;
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	page[1081] = 0xEF;
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_EXT2);
	HCHECK_EQ(part_probe(page, 1024, uuid), PART_UNKNOWN);	/* superblock not read */
	/* FAT: every part of the boot sector counts. */
	reset_image();
	put_fat(0);
	memcpy(page, image, 4096);
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_FAT);
	page[510] = 0;
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	memcpy(page, image, 4096);
	page[0] = 0;
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	memcpy(page, image, 4096);
	page[12] = 0x03;				/* 768 bytes per sector */
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	memcpy(page, image, 4096);
	page[13] = 3;					/* 3 sectors per cluster */
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	memcpy(page, image, 4096);
	memcpy(page + 54, "NTFS", 4);
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_UNKNOWN);
	memcpy(page + 82, "FAT32   ", 8);
	HCHECK_EQ(part_probe(page, sizeof(page), uuid), PART_FAT);
}

HTEST(probe_small_partition_reads_what_there_is)
{
	reset_image();
	mbr_entry(0, 0x83, DISK_SECTORS - 3, 3);	/* 3 sectors: a short read */
	put_fat(DISK_SECTORS - 8);
	memcpy(image + (DISK_SECTORS - 3) * 512, image + (DISK_SECTORS - 8) * 512, 512);
	reads = 0;
	probe();
	HCHECK_EQ(disk.part[1].content, PART_FAT);
	HCHECK_EQ(reads, 2);				/* the MBR, 3 sectors of the partition */
}

static int fail_from;

static long read_fails_late(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
	if (lba >= (uint64_t)fail_from)
		return ERR_IO;
	return read_image(ctx, lba, count, buf);
}

HTEST(probe_unreadable_partition_goes_to_nobody)
{
	struct part_disk d = fake;
	struct part_policy pol;

	reset_image();
	mbr_entry(0, 0x82, 100, 100);
	mbr_entry(1, 0x83, 300, 100);
	put_swap(100, 1);
	put_ext2(300, 2);
	fail_from = 300;
	d.read = read_fails_late;
	logbuf[0] = '\0';
	HCHECK_EQ(part_scan(&disk, &d, scanbuf), 0);
	part_probe_all(&disk, &d, scanbuf);
	HCHECK_EQ(disk.part[1].content, PART_SWAP);
	HCHECK_EQ(disk.part[2].content, PART_UNREADABLE);
	HCHECK(strstr(logbuf, "disk0: partition 2: cannot read its first sectors"));
	part_policy_init(&pol);
	HCHECK(!part_policy_allows(&pol, &disk, 0, 2, "fs"));
	HCHECK(part_policy_allows(&pol, &disk, 0, 1, "swapd"));
}

HTEST(gpt_partitions_probed_alike)
{
	struct part_policy pol;

	reset_image();
	/* Both typed "Linux filesystem": only the signatures tell them apart. */
	gpt_entry(0, guid_linux, 34, 1033);
	gpt_entry(1, guid_linux, 1034, 2057);
	gpt_seal();
	put_ext2(34, 3);
	put_swap(1034, 4);
	probe();
	HCHECK(strcmp(disk.scheme, "GPT") == 0);
	HCHECK_EQ(disk.part[1].content, PART_EXT2);
	HCHECK_EQ(disk.part[2].content, PART_SWAP);
	part_policy_init(&pol);
	HCHECK(part_policy_allows(&pol, &disk, 0, 1, "fs"));
	HCHECK(part_policy_allows(&pol, &disk, 0, 2, "swapd"));
	HCHECK(!part_policy_allows(&pol, &disk, 0, 1, "swapd"));
}

HTEST(uuid_string)
{
	static const uint8_t u[16] = { 0x46, 0x45, 0x52, 0x52, 0x59, 0x00, 0x40, 0x00,
				       0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
	char buf[37];

	HCHECK(strcmp(part_uuid_str(u, buf), "46455252-5900-4000-8000-000000000001") == 0);
}

/* --- policy --- */

/* FAT, ext2, swap as partitions 1..3, probed. */
static void fat_ext2_swap(void)
{
	reset_image();
	mbr_entry(0, 0x0C, 100, 100);
	mbr_entry(1, 0x83, 300, 100);
	mbr_entry(2, 0x82, 500, 100);
	put_fat(100);
	put_ext2(300, 1);
	put_swap(500, 2);
	probe();
}

HTEST(policy_by_content_by_default)
{
	struct part_policy pol;
	char who[64];

	fat_ext2_swap();
	part_policy_init(&pol);
	HCHECK(!part_policy_allows(&pol, &disk, 0, 1, "fs"));	/* FAT: nobody */
	HCHECK(!part_policy_allows(&pol, &disk, 0, 1, "swapd"));
	HCHECK(part_policy_allows(&pol, &disk, 0, 2, "fs"));
	HCHECK(!part_policy_allows(&pol, &disk, 0, 2, "swapd"));
	HCHECK(part_policy_allows(&pol, &disk, 0, 3, "swapd"));
	HCHECK(!part_policy_allows(&pol, &disk, 0, 3, "fs"));
	HCHECK(!part_policy_allows(&pol, &disk, 0, 4, "fs"));	/* no partition 4 */
	HCHECK(!part_policy_allows(&pol, &disk, 0, 0, "fs"));	/* nobody raw */
	HCHECK(!part_policy_allows(&pol, &disk, 1, 0, "fs"));
	HCHECK(strcmp(part_policy_names(part_policy_entry(&pol, &disk, 1), who, sizeof(who)),
		      "nobody") == 0);
	HCHECK(strcmp(part_policy_names(part_policy_entry(&pol, &disk, 3), who, sizeof(who)),
		      "swapd") == 0);
}

HTEST(policy_arguments_override_content)
{
	struct part_policy pol;
	const char *why;
	char who[64];

	fat_ext2_swap();
	part_policy_init(&pol);
	HCHECK_EQ(part_policy_parse(&pol, "part1=fs", &why), 0);	/* the FAT, to fs */
	HCHECK_EQ(part_policy_parse(&pol, "part3=", &why), 0);		/* swap: nobody */
	HCHECK_EQ(part_policy_parse(&pol, "ext2=fs,blktest", &why), 0);
	HCHECK(part_policy_allows(&pol, &disk, 0, 1, "fs"));
	HCHECK(!part_policy_allows(&pol, &disk, 0, 3, "swapd"));
	HCHECK(part_policy_allows(&pol, &disk, 0, 2, "blktest"));
	HCHECK(strcmp(part_policy_names(part_policy_entry(&pol, &disk, 2), who, sizeof(who)),
		      "fs,blktest") == 0);
	HCHECK_EQ(part_policy_parse(&pol, "fat=dosd", &why), 0);	/* explicit part1 wins */
	HCHECK(!part_policy_allows(&pol, &disk, 0, 1, "dosd"));
	HCHECK_EQ(part_policy_parse(&pol, "swap=", &why), 0);
	HCHECK_EQ(part_policy_parse(&pol, "part3=swapd", &why), 0);
	HCHECK(part_policy_allows(&pol, &disk, 0, 3, "swapd"));
}

HTEST(policy_parse_and_allow)
{
	struct part_policy pol;
	const char *why;

	memset(&pol, 0, sizeof(pol));
	HCHECK_EQ(part_policy_parse(&pol, "part1=swapd", &why), 0);
	HCHECK_EQ(part_policy_parse(&pol, "part2=fs,blktest", &why), 0);
	HCHECK_EQ(part_policy_parse(&pol, "raw=blktest", &why), 0);
	HCHECK(part_policy_allows(&pol, NULL, 0, 1, "swapd"));
	HCHECK(!part_policy_allows(&pol, NULL, 0, 1, "fs"));
	HCHECK(!part_policy_allows(&pol, NULL, 0, 1, "swap"));	/* whole names only */
	HCHECK(!part_policy_allows(&pol, NULL, 0, 1, "swapdd"));
	HCHECK(part_policy_allows(&pol, NULL, 0, 2, "fs"));
	HCHECK(part_policy_allows(&pol, NULL, 0, 2, "blktest"));
	HCHECK(part_policy_allows(&pol, NULL, 0, 0, "blktest"));
	HCHECK(part_policy_allows(&pol, NULL, 3, 0, "blktest"));	/* raw: every disk */
	HCHECK(!part_policy_allows(&pol, NULL, 1, 2, "blktest"));	/* other disks: raw only */
	HCHECK(!part_policy_allows(&pol, NULL, 0, 0, "swapd"));
	HCHECK(!part_policy_allows(&pol, NULL, 0, 17, "swapd"));
	HCHECK(!part_policy_allows(&pol, NULL, 0, 3, ""));
	/* a later entry for the same partition replaces the earlier one */
	HCHECK_EQ(part_policy_parse(&pol, "part1=other", &why), 0);
	HCHECK(!part_policy_allows(&pol, NULL, 0, 1, "swapd"));
	HCHECK_EQ(part_policy_parse(&pol, "raw=", &why), 0);	/* nobody */
	HCHECK(!part_policy_allows(&pol, NULL, 0, 0, "blktest"));
}

HTEST(policy_refuses_malformed)
{
	static const char *const bad[] = {
		"part0=x", "part17=x", "part=x", "partx=x", "part1x=x", "part123456789=x",
		"part1=a,", "part1=,a", "part1=a,,b", "part1=a,b,c,d,e",
		"part1=averyveryverylongname", "swap=a,,b", "ext2=,", "fat=a,b,c,d,e",
	};
	struct part_policy pol;
	const char *why;

	part_policy_init(&pol);
	HCHECK_EQ(part_policy_parse(&pol, "part1=swapd", &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		HCHECK_EQ(part_policy_parse(&pol, bad[i], &why), ERR_INVAL);
		HCHECK(why != NULL);
	}
	/* a bad entry grants nothing and takes nothing away */
	HCHECK(part_policy_allows(&pol, NULL, 0, 1, "swapd"));
	HCHECK(!part_policy_allows(&pol, NULL, 0, 1, "a"));
	HCHECK(pol.content[PART_SWAP].n == 1 && pol.content[PART_EXT2].n == 1);
	HCHECK_EQ(part_policy_parse(&pol, "timeout=100", &why), ERR_NOENT);
	HCHECK_EQ(part_policy_parse(&pol, "dma=off", &why), ERR_NOENT);
	HCHECK_EQ(part_policy_parse(&pol, "raw", &why), ERR_NOENT);
	HCHECK_EQ(part_policy_parse(&pol, "swapd=x", &why), ERR_NOENT);
	HCHECK_EQ(part_policy_parse(&pol, "unknown=x", &why), ERR_NOENT);
}
