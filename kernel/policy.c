// SPDX-License-Identifier: MIT
#include "policy.h"

#include "arch/arch.h"
#include "log.h"

static struct boot_config boot_config;

static void report_bad_line(void *ctx, int line, const char *msg)
{
	(void)ctx;
	log_err("config: line %d ignored: %s", line, msg);
}

void policy_load(const struct boot_info *bi)
{
	const struct boot_module *m = boot_find_module(bi, "config");

	if (!m) {
		log_warn("config: no boot configuration module; programs get no rights");
		return;
	}
	config_parse(phys_to_virt(m->start), m->end - m->start, &boot_config, report_bad_line,
		     NULL);
	log_info("config: %d programs configured", boot_config.nprogs);
}

const struct program_config *policy_for(const char *program)
{
	const struct program_config *c = config_find(&boot_config, program);

	return c ? c : config_default();
}

const struct boot_config *policy_all(void)
{
	return &boot_config;
}
