// SPDX-License-Identifier: MIT
/* kernel/config.c: rights by program name; every bad line is reported and dropped whole. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdlib.h>

#include "../../kernel/config.c"

struct reports {
	int count;
	int line[8];
	const char *msg[8];
};

static void record(void *ctx, int line, const char *msg)
{
	struct reports *r = ctx;

	if (r->count < 8) {
		r->line[r->count] = line;
		r->msg[r->count] = msg;
	}
	r->count++;
}

static struct boot_config cfg;

static int parse(const char *text, struct reports *r)
{
	memset(r, 0, sizeof(*r));
	return config_parse(text, strlen(text), &cfg, record, r);
}

/* Parses a file that must have exactly one bad line; returns that line's reason. */
static const char *refusal(const char *text)
{
	struct reports r;

	HCHECK_EQ(parse(text, &r), 1);
	HCHECK_EQ(r.count, 1);
	HCHECK_EQ(cfg.nprogs, 0);
	return r.count ? r.msg[0] : "(none)";
}

#define HCHECK_REFUSED(text, reason) HCHECK(strcmp(refusal(text), reason) == 0)

HTEST(example_file_parses)
{
	static const char text[] =
		"# name   options...\n"
		"init     priority=10 spawn shutdown restart\n"
		"\n"
		"   \t  # indented comment\n"
		"ata\tservice priority=20 pin dma pci irq=14 irq=15 ioport=0x1f0-0x1f7 ioport=0x3f6"
		" ioport=0x170-0x177 ioport=0x376   # trailing comment\n"
		"swapd pager swap kill faultpath\r\n"
		"shell";		/* no final newline */
	const struct program_config *p;
	struct reports r;

	HCHECK_EQ(parse(text, &r), 0);
	HCHECK_EQ(r.count, 0);
	HCHECK_EQ(cfg.nprogs, 4);

	p = config_find(&cfg, "init");
	HCHECK(p == &cfg.prog[0]);
	HCHECK_EQ(p->priority, 10);
	HCHECK_EQ(p->rights, RIGHT_SPAWN | RIGHT_SHUTDOWN | RIGHT_RESTART);
	HCHECK(!p->service);
	HCHECK_EQ(p->irqs, 0);
	HCHECK_EQ(p->nio, 0);

	p = config_find(&cfg, "ata");
	HCHECK(p != NULL);
	HCHECK_EQ(p->priority, 20);
	HCHECK_EQ(p->rights, RIGHT_PIN | RIGHT_DMA | RIGHT_PCI);
	HCHECK(p->service);
	HCHECK_EQ(p->irqs, (1u << 14) | (1u << 15));
	HCHECK_EQ(p->nio, 4);
	HCHECK_EQ(p->io[0].first, 0x1f0);
	HCHECK_EQ(p->io[0].last, 0x1f7);
	HCHECK_EQ(p->io[1].first, 0x3f6);
	HCHECK_EQ(p->io[1].last, 0x3f6);
	HCHECK(config_ioport_allowed(p, 0x1f0));
	HCHECK(config_ioport_allowed(p, 0x1f7));
	HCHECK(config_ioport_allowed(p, 0x376));
	HCHECK(!config_ioport_allowed(p, 0x1f8));
	HCHECK(!config_ioport_allowed(p, 0x3f7));

	p = config_find(&cfg, "swapd");
	HCHECK(p != NULL);
	HCHECK_EQ(p->rights, RIGHT_PAGER | RIGHT_SWAP | RIGHT_KILL | RIGHT_FAULTPATH);

	p = config_find(&cfg, "shell");
	HCHECK(p != NULL);
	HCHECK_EQ(p->priority, CONFIG_DEFAULT_PRIORITY);
	HCHECK_EQ(p->rights, 0);

	HCHECK(config_find(&cfg, "nope") == NULL);
	HCHECK(config_find(&cfg, "") == NULL);
}

HTEST(default_entry)
{
	const struct program_config *d = config_default();

	HCHECK_EQ(d->priority, 10);
	HCHECK_EQ(d->rights, 0);
	HCHECK_EQ(d->irqs, 0);
	HCHECK_EQ(d->nio, 0);
	HCHECK(!config_ioport_allowed(d, 0x60));
}

HTEST(right_names)
{
	HCHECK(strcmp(config_right_name(RIGHT_SPAWN), "spawn") == 0);
	HCHECK(strcmp(config_right_name(RIGHT_KILL), "kill") == 0);
	HCHECK(strcmp(config_right_name(RIGHT_PCI), "pci") == 0);
	HCHECK(strcmp(config_right_name(0), "unknown") == 0);
	HCHECK(strcmp(config_right_name(RIGHT_SPAWN | RIGHT_KILL), "unknown") == 0);
	HCHECK(strcmp(config_right_name(1u << 31), "unknown") == 0);
}

HTEST(numbers)
{
	struct reports r;
	const struct program_config *p;

	HCHECK_EQ(parse("p priority=010 irq=0x0 ioport=0-0xffff ioport=0X10\n", &r), 0);
	p = config_find(&cfg, "p");
	HCHECK(p != NULL);
	HCHECK_EQ(p->priority, 10);	/* leading zero is not octal */
	HCHECK_EQ(p->irqs, 1);
	HCHECK_EQ(p->io[0].first, 0);
	HCHECK_EQ(p->io[0].last, 0xffff);
	HCHECK_EQ(p->io[1].first, 0x10);

	HCHECK_EQ(parse("a priority=1\nb priority=31\n", &r), 0);
	HCHECK_EQ(cfg.prog[0].priority, 1);
	HCHECK_EQ(cfg.prog[1].priority, 31);
}

HTEST(bad_options)
{
	HCHECK_REFUSED("p spawn fly\n", "unknown key");
	HCHECK_REFUSED("p colour=red\n", "unknown key");
	HCHECK_REFUSED("p spawn=1\n", "unknown key");
	HCHECK_REFUSED("p priority\n", "missing value");
	HCHECK_REFUSED("p priority=\n", "bad number");
	HCHECK_REFUSED("p priority=ten\n", "bad number");
	HCHECK_REFUSED("p priority=-1\n", "bad number");
	HCHECK_REFUSED("p priority=5x\n", "bad number");
	HCHECK_REFUSED("p priority=0x\n", "bad number");
	HCHECK_REFUSED("p priority=99999999999999999999999\n", "bad number");
	HCHECK_REFUSED("p priority=0\n", "priority out of range (1..31)");
	HCHECK_REFUSED("p priority=32\n", "priority out of range (1..31)");
	HCHECK_REFUSED("p priority=5 priority=6\n", "priority given twice");
	HCHECK_REFUSED("p irq=16\n", "irq out of range (0..15)");
	HCHECK_REFUSED("p irq=4294967297\n", "irq out of range (0..15)");
	HCHECK_REFUSED("p ioport=0x10000\n", "ioport out of range (0..0xffff)");
	HCHECK_REFUSED("p ioport=1-65536\n", "ioport out of range (0..0xffff)");
	HCHECK_REFUSED("p ioport=0x1f7-0x1f0\n", "ioport range reversed");
	HCHECK_REFUSED("p ioport=1-\n", "bad number");
	HCHECK_REFUSED("p ioport=-1\n", "bad number");
	HCHECK_REFUSED("p ioport=1-2-3\n", "bad number");
	HCHECK_REFUSED("p ioport=1:2\n", "bad number");
	HCHECK_REFUSED("p ioport=1 ioport=2 ioport=3 ioport=4 ioport=5 ioport=6 ioport=7"
		       " ioport=8 ioport=9\n", "too many io ranges");
}

HTEST(device_items)
{
	const struct program_config *p;
	struct reports r;

	HCHECK_EQ(parse("nvme pin device=01:08:02 device=2:0\n", &r), 0);
	p = config_find(&cfg, "nvme");
	HCHECK(p != NULL);
	if (!p)
		return;
	HCHECK_EQ(p->ndev, 2);
	HCHECK_EQ(p->dev[0].class, 1);
	HCHECK_EQ(p->dev[0].subclass, 8);
	HCHECK_EQ(p->dev[0].progif, 2);
	HCHECK_EQ(p->dev[1].progif, -1);
	HCHECK(config_device_bound(p, 1, 8, 2));
	HCHECK(!config_device_bound(p, 1, 8, 1));	/* another interface of the class */
	HCHECK(!config_device_bound(p, 1, 1, 0x80));	/* IDE is not NVMe */
	HCHECK(config_device_bound(p, 2, 0, 0x55));	/* any interface */
	HCHECK(!config_device_bound(config_default(), 1, 8, 2));
	HCHECK_REFUSED("p device\n", "missing value");
	HCHECK_REFUSED("p device=\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=01\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=01:\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=01:08:\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=01:08:02:00\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=100:08\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=0x1:08\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=zz:08\n", "bad device (want CC:SS or CC:SS:PP, hex)");
	HCHECK_REFUSED("p device=1:1 device=1:2 device=1:3 device=1:4 device=1:5\n",
		       "too many devices");
}

HTEST(bad_names)
{
	HCHECK_REFUSED("abcdefghijklmnop spawn\n", "program name too long");
	HCHECK_REFUSED("priority=10 spawn\n", "bad character in program name");
	HCHECK_REFUSED("na\x01me\n", "bad character in program name");
}

HTEST(paths)
{
	struct reports r;

	HCHECK_EQ(parse("/bin/pagetest faultpath pager\n/bin/x\n", &r), 0);
	HCHECK(config_find(&cfg, "/bin/pagetest") != NULL);
	HCHECK_EQ(config_find(&cfg, "/bin/pagetest")->rights, RIGHT_FAULTPATH | RIGHT_PAGER);
	HCHECK(config_find(&cfg, "pagetest") == NULL);
	/* CONFIG_PATH_MAX counts the NUL. */
	HCHECK_EQ(parse("/abcdefghijklmnopqrstuvwxyz1234\n", &r), 0);
	HCHECK_REFUSED("/abcdefghijklmnopqrstuvwxyz12345\n", "program path too long");
	HCHECK_REFUSED("/bin/drv pin\n", "a program from a file cannot be pinned");
	HCHECK_REFUSED("/bin/srv service\n", "a program from a file cannot be a service");
	HCHECK_REFUSED("bin/x spawn\n", "bad character in program name");
}

HTEST(longest_name_fits)
{
	struct reports r;

	/* CONFIG_NAME_MAX counts the NUL. */
	HCHECK_EQ(parse("abcdefghijklmno spawn\n", &r), 0);
	HCHECK(config_find(&cfg, "abcdefghijklmno") != NULL);
}

/* No partial rights: the good options before the bad one are not granted either. */
HTEST(bad_line_dropped_whole)
{
	struct reports r;

	HCHECK_EQ(parse("init spawn\nata dma pci irq=14 ioport=0x1f0 bogus\nfs pin\n", &r), 1);
	HCHECK_EQ(r.count, 1);
	HCHECK_EQ(r.line[0], 2);
	HCHECK(strcmp(r.msg[0], "unknown key") == 0);
	HCHECK_EQ(cfg.nprogs, 2);
	HCHECK(config_find(&cfg, "ata") == NULL);
	HCHECK(config_find(&cfg, "fs") != NULL);
}

HTEST(duplicate_name_later_line_is_bad)
{
	struct reports r;
	const struct program_config *p;

	HCHECK_EQ(parse("init spawn\n# comment\ninit shutdown kill\n", &r), 1);
	HCHECK_EQ(r.line[0], 3);
	HCHECK(strcmp(r.msg[0], "duplicate program name") == 0);
	p = config_find(&cfg, "init");
	HCHECK(p != NULL);
	HCHECK_EQ(p->rights, RIGHT_SPAWN);
}

HTEST(too_many_programs)
{
	static char text[CONFIG_MAX_PROGRAMS * 16 + 64];
	struct reports r;
	size_t n = 0;

	for (int i = 0; i < CONFIG_MAX_PROGRAMS + 2; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "p%d\n", i);
	HCHECK_EQ(parse(text, &r), 2);
	HCHECK_EQ(cfg.nprogs, CONFIG_MAX_PROGRAMS);
	HCHECK_EQ(r.line[0], CONFIG_MAX_PROGRAMS + 1);
	HCHECK(strcmp(r.msg[0], "too many programs") == 0);
	HCHECK(config_find(&cfg, "p31") != NULL);
	HCHECK(config_find(&cfg, "p32") == NULL);
}

HTEST(long_lines)
{
	static char text[2 * CONFIG_LINE_MAX];
	struct reports r;

	/* Exactly CONFIG_LINE_MAX bytes before the newline is still fine. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "p spawn", 7);
	text[CONFIG_LINE_MAX] = '\n';
	text[CONFIG_LINE_MAX + 1] = '\0';
	HCHECK_EQ(parse(text, &r), 0);
	HCHECK(config_find(&cfg, "p") != NULL);

	text[CONFIG_LINE_MAX] = ' ';
	text[CONFIG_LINE_MAX + 1] = '\n';
	text[CONFIG_LINE_MAX + 2] = '\0';
	HCHECK_REFUSED(text, "line longer than 512 bytes");
}

HTEST(length_bounds_and_nul_bytes)
{
	static const char text[] = "init spawn\nata dma";
	struct reports r = { 0 };

	/* Only len bytes are read: "ata dma" is cut to "at". */
	HCHECK_EQ(config_parse(text, 13, &cfg, record, &r), 0);
	HCHECK_EQ(cfg.nprogs, 2);
	HCHECK(config_find(&cfg, "at") != NULL);

	memset(&r, 0, sizeof(r));
	HCHECK_EQ(config_parse("init\0 spawn\nfs\n", 15, &cfg, record, &r), 1);
	HCHECK(strcmp(r.msg[0], "NUL byte in line") == 0);
	HCHECK_EQ(cfg.nprogs, 1);

	HCHECK_EQ(config_parse("", 0, &cfg, NULL, NULL), 0);
	HCHECK_EQ(cfg.nprogs, 0);
	HCHECK_EQ(config_parse("bad=1\nworse=2\n", 14, &cfg, NULL, NULL), 2);
}

/* Every prefix of a file, in an exactly-sized heap buffer, parses without overreading (ASan). */
HTEST(every_prefix_is_safe)
{
	static const char text[] = "init priority=10 spawn\nata irq=14 ioport=0x1f0-0x1f7 # c\n";

	for (size_t n = 0; n <= sizeof(text) - 1; n++) {
		char *exact = malloc(n ? n : 1);

		memcpy(exact, text, n);
		config_parse(exact, n, &cfg, NULL, NULL);
		free(exact);
	}
	HCHECK_EQ(cfg.nprogs, 2);
}
