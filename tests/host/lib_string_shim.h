/* SPDX-License-Identifier: MIT */
/*
 * For host tests of kernel files: gives them lib/string.c's non-standard
 * functions (strlcpy, str_to_u64) under their real names, while the
 * standard ones are compiled as shim_* so the host libc keeps its own.
 * Include once, before the kernel .c file under test.
 */
#ifndef LIB_STRING_SHIM_H
#define LIB_STRING_SHIM_H

#define memcpy shim_memcpy
#define memmove shim_memmove
#define memset shim_memset
#define memcmp shim_memcmp
#define memchr shim_memchr
#define strlen shim_strlen
#define strnlen shim_strnlen
#define strcmp shim_strcmp
#define strncmp shim_strncmp
#define strchr shim_strchr
#define strrchr shim_strrchr
#include "../../lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef memchr
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr

#include <string.h>

#endif
