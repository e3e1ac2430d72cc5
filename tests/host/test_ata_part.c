// SPDX-License-Identifier: MIT
/* user/ata/part.c: MBR and GPT tables from a fake disk in memory, the access policy. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdarg.h>
#include <stdlib.h>

#include "../../user/ata/part.c"

static char logbuf[8192];

void ata_log(const char *fmt, ...)
{
	size_t len = strlen(logbuf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logbuf + len, sizeof(logbuf) - len, fmt, ap);
	va_end(ap);
	len = strlen(logbuf);
	if (len + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
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

static struct ata_disk disk;
static uint8_t scanbuf[32 * 512];

static long scan(void)
{
	memset(&disk, 0, sizeof(disk));
	disk.sectors = DISK_SECTORS;
	logbuf[0] = '\0';
	return ata_part_scan(&disk, read_image, NULL, scanbuf);
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
	HCHECK(strcmp(disk.table, "MBR") == 0);
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
	HCHECK(strcmp(disk.table, "none") == 0);
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
	struct ata_disk d = { .sectors = DISK_SECTORS };

	HCHECK_EQ(ata_part_scan(&d, read_fails, NULL, scanbuf), ERR_IO);
	HCHECK(strcmp(d.table, "none") == 0);
	HCHECK(d.part[0].present && !d.part[1].present);
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
	put32(h + 88, ata_crc32(image + 2 * 512, 128 * 128));
	put32(h + 16, 0);
	put32(h + 16, ata_crc32(h, 92));
}

HTEST(gpt_partitions_and_types)
{
	reset_image();
	gpt_entry(0, guid_swap, 34, 1033);
	gpt_entry(1, guid_linux, 1034, 2057);
	gpt_entry(3, guid_other, 2058, 2100);	/* entry 3 unused: numbering follows use */
	gpt_seal();
	HCHECK_EQ(scan(), 0);
	HCHECK(strcmp(disk.table, "GPT") == 0);
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
	put32(image + 512 + 16, ata_crc32(image + 512, 92));
	HCHECK_EQ(scan(), 0);
	HCHECK(!disk.part[1].present);
}

HTEST(crc32_check_value)
{
	HCHECK_EQ(ata_crc32("123456789", 9), 0xCBF43926u);
	HCHECK_EQ(ata_crc32("", 0), 0);
}

/* --- policy --- */

HTEST(policy_parse_and_allow)
{
	struct ata_policy pol;
	const char *why;

	memset(&pol, 0, sizeof(pol));
	HCHECK_EQ(ata_policy_parse(&pol, "part1=swapd", &why), 0);
	HCHECK_EQ(ata_policy_parse(&pol, "part2=fs,blktest", &why), 0);
	HCHECK_EQ(ata_policy_parse(&pol, "raw=blktest", &why), 0);
	HCHECK(ata_policy_allows(&pol, 0, 1, "swapd"));
	HCHECK(!ata_policy_allows(&pol, 0, 1, "fs"));
	HCHECK(!ata_policy_allows(&pol, 0, 1, "swap"));	/* whole names only */
	HCHECK(!ata_policy_allows(&pol, 0, 1, "swapdd"));
	HCHECK(ata_policy_allows(&pol, 0, 2, "fs"));
	HCHECK(ata_policy_allows(&pol, 0, 2, "blktest"));
	HCHECK(ata_policy_allows(&pol, 0, 0, "blktest"));
	HCHECK(ata_policy_allows(&pol, 3, 0, "blktest"));	/* raw: every disk */
	HCHECK(!ata_policy_allows(&pol, 1, 2, "blktest"));	/* other disks: raw only */
	HCHECK(!ata_policy_allows(&pol, 0, 0, "swapd"));
	HCHECK(!ata_policy_allows(&pol, 0, 17, "swapd"));
	HCHECK(!ata_policy_allows(&pol, 0, 3, ""));
	HCHECK(ata_policy_any(&pol, 0, "swapd"));
	HCHECK(!ata_policy_any(&pol, 1, "swapd"));
	HCHECK(ata_policy_any(&pol, 1, "blktest"));
	HCHECK(!ata_policy_any(&pol, 0, "rogue"));
	/* a later entry for the same partition replaces the earlier one */
	HCHECK_EQ(ata_policy_parse(&pol, "part1=other", &why), 0);
	HCHECK(!ata_policy_allows(&pol, 0, 1, "swapd"));
	HCHECK_EQ(ata_policy_parse(&pol, "raw=", &why), 0);	/* nobody */
	HCHECK(!ata_policy_allows(&pol, 0, 0, "blktest"));
}

HTEST(policy_refuses_malformed)
{
	static const char *const bad[] = {
		"part0=x", "part17=x", "part=x", "partx=x", "part1x=x", "part123456789=x",
		"part1=a,", "part1=,a", "part1=a,,b", "part1=a,b,c,d,e",
		"part1=averyveryverylongname",
	};
	struct ata_policy pol;
	const char *why;

	memset(&pol, 0, sizeof(pol));
	HCHECK_EQ(ata_policy_parse(&pol, "part1=swapd", &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		HCHECK_EQ(ata_policy_parse(&pol, bad[i], &why), ERR_INVAL);
		HCHECK(why != NULL);
	}
	/* a bad entry grants nothing and takes nothing away */
	HCHECK(ata_policy_allows(&pol, 0, 1, "swapd"));
	HCHECK(!ata_policy_allows(&pol, 0, 1, "a"));
	HCHECK_EQ(ata_policy_parse(&pol, "timeout=100", &why), ERR_NOENT);
	HCHECK_EQ(ata_policy_parse(&pol, "dma=off", &why), ERR_NOENT);
	HCHECK_EQ(ata_policy_parse(&pol, "raw", &why), ERR_NOENT);
}
