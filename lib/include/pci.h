/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space for user-space drivers, through the kernel
 * (sys_pci_read: reads only of functions the caller may see).  A driver
 * finds its function by class, not by slot: QEMU places devices where the
 * command line says, and a machine may have them behind bridges.
 */
#ifndef FERRY_PCI_H
#define FERRY_PCI_H

#include <stdint.h>

/* A register of function bdf; all ones when it cannot be read (no such
 * function, or refused), as a bus read of an absent function gives. */
uint32_t pci_config_read(uint32_t bdf, int offset, int size);

/* The first function whose class register (class << 16 | subclass << 8
 * | prog-if) starts with `class`, its top `bits` bits (16: class and
 * subclass, 24: prog-if too), on bus 0 and then the buses behind the
 * bridges found on the way (breadth first).  => its bdf, or ERR_NOENT. */
long pci_find_class(uint32_t class, unsigned bits);

#endif
