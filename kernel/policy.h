/* SPDX-License-Identifier: MIT */
/*
 * Policy: what each program may do (driver rights, I/O ports, IRQs,
 * priority) comes from the boot configuration module "config"
 * (iso/ferry.conf), parsed once at boot by config.c.  A program the file
 * does not name gets no rights.  Rights are the kernel's decision, made
 * from its boot configuration, never the asking process's.
 */
#ifndef POLICY_H
#define POLICY_H

#include "bootinfo.h"
#include "config.h"

void policy_load(const struct boot_info *bi);
const struct program_config *policy_for(const char *program);
/* Every configured program, in file order (for the PCI device owners). */
const struct boot_config *policy_all(void);

#endif
