// SPDX-License-Identifier: MIT
/*
 * Spawning and waiting, the way the shell, init and the test runner all
 * need it, and the names ps shows for states and statuses.
 */
#include <ferry/sys.h>
#include <file.h>
#include <fmt.h>
#include <proc.h>

long proc_reap(long pid, long timeout_ns, long *status)
{
	long ret;

	ret = sys_wait(pid, status, timeout_ns);
	if (ret != ERR_TIMEOUT)
		return ret < 0 ? ret : 0;
	/* Reap it: a child left behind would count as a leak. */
	ret = sys_kill(pid);
	if (ret == 0)
		ret = sys_wait(pid, status, -1);
	return ret < 0 ? ret : ERR_TIMEOUT;
}

long proc_run(const char *name, const char *args, long timeout_ns, long *status)
{
	long pid = sys_spawn(name, args);

	return pid < 0 ? pid : proc_reap(pid, timeout_ns, status);
}

long proc_spawn_self(const char *args)
{
	struct proc_info self;
	long err = proc_find(proc_pid(), &self);

	if (err)
		return err;
	return self.image[0] ? file_spawn(self.image, args) : sys_spawn(self.name, args);
}

const char *proc_status_str(long status, char *buf, size_t size)
{
	if (status == PROC_STATUS_FAULT)
		return "fault";
	if (status == PROC_STATUS_KILLED)
		return "killed";
	snprintf(buf, size, "%ld", status);
	return buf;
}

const char *proc_state_str(uint32_t state)
{
	static const char *const names[] = {
#define PROC_STATE_NAME(name, text) [name] = text,
		FERRY_THREAD_STATES(PROC_STATE_NAME)
#undef PROC_STATE_NAME
	};

	return state < THREAD_NSTATES ? names[state] : "?";
}

long proc_find(long pid, struct proc_info *out)
{
	long i, ret;

	for (i = 0; (ret = sys_proc_info(i, out)) == 0; i++) {
		if (out->pid == pid)
			return 0;
	}
	return ret;
}
