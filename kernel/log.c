// SPDX-License-Identifier: MIT
#include "log.h"

#include <fmt.h>
#include <string.h>

#include "arch/arch.h"
#include "clock.h"
#include "lock.h"

static int log_level = LOG_INFO;

static const char *const level_tag[] = {
	[LOG_ERR] = "error: ",
	[LOG_WARN] = "warning: ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

static const char *const level_name[] = {
	[LOG_ERR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

bool log_set_level_option(const char *value)
{
	uint64_t n;
	const char *end;

	for (int l = LOG_ERR; l <= LOG_DEBUG; l++) {
		if (strcmp(value, level_name[l]) == 0) {
			log_level = l;
			return true;
		}
	}
	if (str_to_u64(value, 10, &n, &end) != 0 || *end || n > LOG_DEBUG)
		return false;
	log_level = (int)n;
	return true;
}

/*
 * The serial line is the only console; interrupts stay off and the
 * console lock is held while a piece is written, so pieces from two CPUs
 * (or an interrupt handler) never interleave mid-piece.  Recursive: a
 * panic report may start inside a piece being written.
 */
static struct spinlock console_lock = SPINLOCK_INIT;

void console_write(const char *s, size_t n)
{
	unsigned long irq = arch_irq_save();

	spin_lock_recursive(&console_lock);
	arch_serial_write(s, n);
	spin_unlock(&console_lock);
	arch_irq_restore(irq);
}

static void console_out(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	console_write(s, n);
}

void kvprintf(const char *fmt, va_list ap)
{
	fmt_vformat(console_out, NULL, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void klog(enum log_level level, const char *fmt, ...)
{
	char line[256];
	uint64_t ns = clock_ns();
	unsigned long irq;
	va_list ap;
	int n;

	if ((int)level > log_level)
		return;
	n = snprintf(line, sizeof(line), "[%5lu.%06lu] %s", (unsigned long)(ns / 1000000000),
		     (unsigned long)(ns / 1000 % 1000000), level_tag[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	irq = arch_irq_save();
	spin_lock_recursive(&console_lock);
	arch_serial_write(line, (size_t)n);
	spin_unlock(&console_lock);
	arch_irq_restore(irq);
}
