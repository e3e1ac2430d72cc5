/* SPDX-License-Identifier: MIT */
/* System-call dispatch: the table is generated from <ferry/syscalls.h>. */
#ifndef SYSCALL_H
#define SYSCALL_H

#include <stdint.h>

/* From the arch entry path; => the value for the caller's rax. */
long syscall_dispatch(uint64_t num, const uint64_t args[6]);
const char *syscall_name(uint64_t num);

#endif
