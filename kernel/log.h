/* SPDX-License-Identifier: MIT */
/*
 * The kernel log: levelled lines on the serial console, each stamped with
 * seconds since boot.  `loglevel=` on the command line hides the lines
 * above a level: error, warn, info (the default) or debug, or 0..3.  kprintf() writes raw text (banners, panic
 * reports, console output) with no stamp and no filter.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* A `loglevel=` value, by name or number: => false (level unchanged) if it is neither. */
bool log_set_level_option(const char *value);
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
void console_write(const char *s, size_t n);

#define log_err(...)	klog(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	klog(LOG_WARN, __VA_ARGS__)
#define log_info(...)	klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	klog(LOG_DEBUG, __VA_ARGS__)

#endif
