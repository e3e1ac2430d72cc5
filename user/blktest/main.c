// SPDX-License-Identifier: MIT
/*
 * blktest [DRIVER:][MODE[+MODE...]]    (default ata, read+perm+pager)
 *
 * DRIVER is the port of the driver under test: ata (the default) or nvme.
 *
 *   read      copy-mode reads by PIO and DMA, LBA28 and LBA48, bounds
 *   perm      malformed and out-of-bounds requests, then blkrogue (this
 *             program under a name the policy does not know) refused
 *   pager     the grant paths end to end: a child faults on a mapping we
 *             page for it through ata, in every fill mode
 *   write     writes to the free space and page-outs through ata (boot
 *             with a copy of the disk: tests/cases/ata.py does)
 *   faults:T_DMA,T_PIO,P_DMA,P_PIO,W   injected disk errors, a hung disk 1
 *   piponly   ata runs with dma=off: PIO for everything, DMA grants refused
 *   second    disk 1, a disk on the secondary channel: raw reads, a write
 *   raw       for a driver serving whole disks only: reads, bounds,
 *             refusals (PIO among them), the pager in every fill mode
 *   rawwrite  ... writes to the free space, flush, page-outs
 *   rawfaults:T,P,W  ... injected errors on disk 0, a slow disk 1
 *   rawprp    ... one DMA page-in of 4 pages (kdb's PRP view watches it)
 *   giveup    disk 1 hung (a slow null-co drive): the pager gives up on a
 *             DMA page-in ata is still doing; the frames must not be reused
 *   rogue     (as blkrogue) everything must be refused
 *   dmarogue:KINDS  ata (started with `rogue`) aims a grant's DMA astray
 *             (stray, ended, beyond): the IOMMU must stop every one
 *   dmalanded:KINDS the same where nothing stops it (no IOMMU, or
 *             iommu_test=stale): every one must land (negative control)
 *   slowdma   a DMA page-in from disk 1 (throttled) that the kernel gives
 *             up on (overtime=) before the transfer lands
 *   percpu    a reader per CPU at once, checked against one read before
 *   child ... (internal) the pager's child
 *   stranger ... (internal) a client naming a grant someone else forwarded
 *
 * Started by the kernel as the first program (init=blktest initarg=MODE),
 * it starts ata itself and ends the boot with the verdict.  Rights (boot
 * configuration): spawn, shutdown, kill (to switch the fault path); ata's
 * policy must name blktest for partitions 1, 2, 3 and raw.
 */
#include <fmt.h>
#include <proc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "blktest.h"

static int passed, failed;

void check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok) {
		printf("  ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	printf("test %s/%s: %s\n", blk_driver, name, ok ? "OK" : "FAILED");
	ok ? passed++ : failed++;
}

int failures(void)
{
	return failed;
}

static bool first_program(void)
{
	struct proc_info me;

	return proc_find(proc_pid(), &me) == 0 && me.parent == 0;
}

/* "nvme:MODES" tests nvme, "ata:MODES" or plain "MODES" ata: => MODES. */
static char *pick_driver(char *arg)
{
	static const char *const drivers[] = { BLOCK_PORT_NAME, BLOCK_PORT_NVME };

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		size_t n = strlen(drivers[i]);

		if (strncmp(arg, drivers[i], n) == 0 && arg[n] == ':') {
			blk_driver = drivers[i];
			blk_pio = strcmp(blk_driver, BLOCK_PORT_NAME) == 0 ? BLOCK_F_PIO : 0;
			return arg + n + 1;
		}
	}
	return arg;
}

static void run_mode(struct blk *b, const char *mode)
{
	if (strcmp(mode, "read") == 0)
		cases_read(b);
	else if (strcmp(mode, "perm") == 0)
		cases_perm(b);
	else if (strcmp(mode, "pager") == 0) {
		cases_pager(b);
		cases_foreign_grant(b);
	}
	else if (strcmp(mode, "write") == 0)
		cases_write(b);
	else if (strcmp(mode, "rogue") == 0)
		cases_rogue(b);
	else if (strcmp(mode, "piponly") == 0)
		cases_pio_only(b);
	else if (strcmp(mode, "second") == 0)
		cases_second(b);
	else if (strcmp(mode, "giveup") == 0)
		cases_giveup(b);
	else if (strncmp(mode, "faults:", 7) == 0)
		cases_faults(b, mode + 7);
	else if (strcmp(mode, "raw") == 0)
		cases_raw(b);
	else if (strcmp(mode, "rawwrite") == 0)
		cases_raw_write(b);
	else if (strcmp(mode, "rawprp") == 0)
		cases_raw_prp(b);
	else if (strncmp(mode, "rawfaults:", 10) == 0)
		cases_raw_faults(b, mode + 10);
	else if (strncmp(mode, "dmarogue:", 9) == 0)
		cases_dma_rogue(b, mode + 9, false);
	else if (strncmp(mode, "dmalanded:", 10) == 0)
		cases_dma_rogue(b, mode + 10, true);
	else if (strcmp(mode, "slowdma") == 0)
		cases_slow_dma(b);
	else if (strcmp(mode, "percpu") == 0)
		cases_percpu(b);
	else
		check("mode", false, "unknown mode '%s'", mode);
}

int main(int argc, char **argv)
{
	char modes[128], *p, *plus;
	bool first;
	struct blk b;
	long err;

	if (argc > 1)
		argv[1] = pick_driver(argv[1]);
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return pager_child(argc, argv);
	if (argc > 1 && strcmp(argv[1], "stranger") == 0)
		return pager_stranger(argc, argv);
	if (argc > 1 && strcmp(argv[1], "roguechild") == 0)
		return rogue_child(argc, argv);
	if (argc > 1 && strcmp(argv[1], "touchchild") == 0)
		return touch_child(argc, argv);
	first = first_program();
	if (first && sys_port_lookup(blk_driver) < 0) {
		err = sys_spawn(blk_driver, NULL);	/* with its own module arguments */
		if (err < 0)
			printf("blktest: cannot start %s: %s\n", blk_driver, err_str(err));
	}
	err = blk_open(&b);
	check("driver_found", err == 0, "%s", err_str(err));
	strlcpy(modes, argc > 1 && *argv[1] ? argv[1] : "read+perm+pager", sizeof(modes));
	for (p = modes; !err && p; p = plus) {
		plus = strchr(p, '+');
		if (plus)
			*plus++ = '\0';
		run_mode(&b, p);
	}
	printf("blktest: done, %d passed, %d failed\n", passed, failed);
	if (first)
		sys_shutdown(failed ? 1 : 0);
	return failed ? 1 : 0;
}
