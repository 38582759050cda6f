// SPDX-License-Identifier: MIT
/*
 * tool_proc.c - child processes: starting a program, waiting for a child
 * with a time limit, ending it, and saying how it ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tool_i.h"

/*
 * Raise RLIMIT_NOFILE's hard limit to fs.nr_open where we may (as root), in
 * the daemon's child before exec: umm-fs raises its soft limit to the hard
 * one, and holds one fd per buffer, so the hard limit a login shell gives
 * (often 20,000 or less) would end umm-bench's daemon-rss long before
 * 100,000 buffers.
 */
static void raise_nofile(void)
{
	struct rlimit rl;
	unsigned long max = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (!max || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max >= max)
		return;
	rl.rlim_max = max;
	setrlimit(RLIMIT_NOFILE, &rl); /* not root: the old limit stays */
}

/**
 * tool_spawn() - fork and exec a program.
 * @path:  the program.
 * @argv:  its arguments, argv[0] first.
 * @keep:  fds the child gets as 3, 4, 5, ... (NULL for none, at most 8).
 *         Every other fd of ours is close-on-exec.
 * @nkeep: how many.
 * @out:   the fd for the child's stdout and stderr, or -1 to share ours.
 * @flags: TOOL_SPAWN_*.
 *
 * The child gets a process group of its own, so a Ctrl-C at the terminal
 * reaches us alone: we end our children first and unmount after, in that
 * order, instead of a daemon going away under processes that still use it.
 * Its pid is its group's id, for as long as it is unreaped.
 *
 * Return: the child's pid, or -errno.
 */
pid_t tool_spawn(const char *path, char *const argv[], const int *keep, unsigned int nkeep, int out,
		 unsigned int flags)
{
	pid_t parent = getpid(), pid;
	int tmp[8], i, fd;

	if (nkeep > 8)
		return -EINVAL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		/* As the child does: its group must exist before we signal it. */
		setpgid(pid, pid);
		return pid;
	}

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (flags & TOOL_SPAWN_PDEATH) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	if (flags & TOOL_SPAWN_NOFILE_MAX)
		raise_nofile();
	if (flags & TOOL_SPAWN_STDIN_NULL) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
	}
	if (out >= 0 && (dup2(out, 1) < 0 || dup2(out, 2) < 0))
		_exit(127);
	/* Out of the way first, so that no dup2() below overwrites a source. */
	for (i = 0; i < (int)nkeep; i++) {
		tmp[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 10);
		if (tmp[i] < 0)
			_exit(127);
	}
	for (i = 0; i < (int)nkeep; i++)
		if (dup2(tmp[i], 3 + i) < 0)
			_exit(127);
	execv(path, argv);
	dprintf(2, "%s: cannot run %s: %s\n", tool_tag(), path, strerror(errno));
	_exit(127);
}

/**
 * tool_wait_pid() - wait for our child @pid to end, for @ms milliseconds at most.
 * @pid:    the child.
 * @status: its wait status, when it ended.
 * @ms:     the time limit; a signal to us does not shorten it (cleanup uses
 *          this too, and must finish).
 *
 * Return: 0 when reaped, -ETIMEDOUT, or -errno from waitpid().
 */
int tool_wait_pid(pid_t pid, int *status, unsigned int ms)
{
	uint64_t end = tool_now_ns() + (uint64_t)ms * 1000000ULL;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (tool_now_ns() >= end)
			return -ETIMEDOUT;
		tool_sleep_ms(5);
	}
}

/**
 * tool_end_child() - end our child @pid and reap it.
 * @pid:      the child.
 * @grace_ms: how long it may take to leave by itself.
 * @status:   its wait status, when it was reaped.
 *
 * Then SIGTERM and 2 s, then SIGKILL and 10 s at most: a process stuck in a
 * request to a FUSE daemon that no longer answers is never waited for
 * without end.
 *
 * Return: 0 when reaped, else -ETIMEDOUT (or -errno from waitpid()).
 */
int tool_end_child(pid_t pid, unsigned int grace_ms, int *status)
{
	if (tool_wait_pid(pid, status, grace_ms) == 0)
		return 0;
	kill(pid, SIGTERM);
	if (tool_wait_pid(pid, status, 2000) == 0)
		return 0;
	kill(pid, SIGKILL);
	return tool_wait_pid(pid, status, 10000);
}

/*
 * Has our child @pid exited? It is left unreaped (WNOWAIT): until then its
 * pid, which is also the id of its process group, cannot be reused.
 */
bool tool_child_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Wait @ms at most for tool_child_exited(@pid). */
bool tool_wait_exited(pid_t pid, unsigned int ms)
{
	uint64_t end = tool_now_ns() + (uint64_t)ms * 1000000ULL;

	while (!tool_child_exited(pid)) {
		if (tool_now_ns() >= end)
			return false;
		tool_sleep_ms(5);
	}
	return true;
}

/**
 * tool_status_text() - how a child ended, for a message.
 * @status: its wait status.
 * @signum: name a signal by number and description ("killed by signal 9
 *          (Killed)", umm-demo's wording), else by name ("killed by SIGKILL",
 *          umm-bench's, which its tests look for).
 * @buf, @len: where the text goes.
 *
 * Return: @buf: "exit status N", "killed by ...", or "wait status 0xN".
 */
const char *tool_status_text(int status, bool signum, char *buf, size_t len)
{
	const char *sig;

	if (WIFEXITED(status)) {
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		sig = sigabbrev_np(WTERMSIG(status));
		if (signum)
			snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		else if (sig)
			snprintf(buf, len, "killed by SIG%s", sig);
		else
			snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(buf, len, "wait status %#x", (unsigned int)status);
	}
	return buf;
}
