/* SPDX-License-Identifier: MIT */
/*
 * The kernel log: levelled lines on the serial console, each stamped with
 * seconds since boot.  `loglevel=N` on the command line hides lines above N
 * (0 errors .. 3 debug).  kprintf() writes raw text (banners, panic
 * reports, console output) with no stamp and no filter.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(int level);
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
void console_write(const char *s, size_t n);

#define log_err(...)	klog(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	klog(LOG_WARN, __VA_ARGS__)
#define log_info(...)	klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	klog(LOG_DEBUG, __VA_ARGS__)

#endif
