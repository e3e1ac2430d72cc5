/* SPDX-License-Identifier: MIT */
/*
 * The boot configuration: which rights each program gets, by name.  It is
 * a text file shipped as a boot module, so it is untrusted input like any
 * other module.  One program per line, '#' starts a comment:
 *
 *	# name   options...
 *	init     priority=10 spawn shutdown
 *	ata      priority=20 pin dma pci irq=14 ioport=0x1f0-0x1f7 ioport=0x3f6
 *	/bin/pagetest faultpath
 *
 * A name is a boot module's (at most 15 characters), or, starting with
 * '/', the path of a program run from a file (at most 31; never pinned,
 * never a service).
 * Options: priority=N (1..31), the rights spawn shutdown pci dma pin pager
 * swap kill restart faultpath, the word service, irq=N (0..15, repeatable),
 * ioport=A or ioport=A-B (decimal or 0x hex, repeatable) and device=CC:SS or
 * device=CC:SS:PP (hex PCI class, subclass and optionally programming
 * interface, repeatable: e.g. device=01:08:02, NVMe).  A device item binds
 * the program to the PCI functions of that class (kernel/pci.h): it may map
 * their memory registers and attach their interrupt line.  A line with any
 * error is reported and dropped whole: a program gets every right its line
 * names or none of them.
 * Programs the file does not name get config_default(): no rights.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_NAME_MAX		16	/* NUL included: a module's name */
#define CONFIG_PATH_MAX		32	/* a program file's path (a name starting with '/') */
#define CONFIG_MAX_PROGRAMS	32
#define CONFIG_MAX_IORANGES	8
#define CONFIG_MAX_DEVICES	4
#define CONFIG_LINE_MAX		512	/* bytes before the newline */
#define CONFIG_DEFAULT_PRIORITY	10
#define CONFIG_PRIORITY_MIN	1
#define CONFIG_PRIORITY_MAX	31
#define CONFIG_IRQ_MAX		15

enum config_right {
	RIGHT_SPAWN = 1u << 0,
	RIGHT_SHUTDOWN = 1u << 1,
	RIGHT_PCI = 1u << 2,
	RIGHT_DMA = 1u << 3,
	RIGHT_PIN = 1u << 4,
	RIGHT_PAGER = 1u << 5,
	RIGHT_SWAP = 1u << 6,
	RIGHT_KILL = 1u << 7,
	RIGHT_RESTART = 1u << 8,	/* may start services (below) with their rights */
	/* May switch the system-wide fault path and cluster size (VM_CTL_FAULTPATH_SET,
	 * VM_CTL_CLUSTER): every process's faults change with them. */
	RIGHT_FAULTPATH = 1u << 9,
	/* May create allowances (ALLOW_CREATE: kernel/ipc/allow.h): let another
	 * process have a driver touch ranges the creator's program may use. */
	RIGHT_ALLOW = 1u << 10,
};

struct ioport_range {
	uint16_t first, last;	/* inclusive */
};

/* PCI functions a driver is bound to, by class (kernel/pci.h). */
struct config_device {
	uint8_t class, subclass;
	int16_t progif;		/* -1: any */
};

struct program_config {
	char name[CONFIG_PATH_MAX];
	int priority;		/* CONFIG_PRIORITY_MIN..MAX */
	uint32_t rights;	/* enum config_right bits */
	/* A service (the word `service`): its rights come with it only when a
	 * program with the `restart` right starts it, and one instance runs at
	 * a time.  A copy started by anyone else runs with no rights at all. */
	bool service;
	uint32_t irqs;		/* bit n: may attach IRQ n */
	struct ioport_range io[CONFIG_MAX_IORANGES];
	int nio;
	struct config_device dev[CONFIG_MAX_DEVICES];
	int ndev;
};

struct boot_config {
	struct program_config prog[CONFIG_MAX_PROGRAMS];
	int nprogs;
};

/*
 * Parses `len` bytes of `text` (no NUL terminator needed) into *out.
 * report(ctx, line, msg) is called once per bad line, with line numbers
 * counted from 1; report may be NULL.
 * => returns the number of bad lines; never fails otherwise.
 */
int config_parse(const char *text, size_t len, struct boot_config *out,
		 void (*report)(void *ctx, int line, const char *msg), void *ctx);

/* => the program's entry, or NULL when the file does not name it. */
const struct program_config *config_find(const struct boot_config *c, const char *name);

/* A default entry (priority 10, no rights) for programs the file does not name. */
const struct program_config *config_default(void);

bool config_ioport_allowed(const struct program_config *p, uint16_t port);

/* Does a device item of p match a PCI function of this class? */
bool config_device_bound(const struct program_config *p, uint8_t class, uint8_t subclass,
			 uint8_t progif);

/* The option name of one right ("spawn", ...), for log lines; "unknown" otherwise. */
const char *config_right_name(uint32_t single_right_bit);

#endif
