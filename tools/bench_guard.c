// SPDX-License-Identifier: MIT
/*
 * bench_guard.c - the process the caller started stays as a guard, and the
 * benchmark runs in its child. A FUSE request to a daemon that no longer
 * answers holds the benchmark past every signal but SIGKILL, and a process
 * that dies of SIGKILL or of a fault runs no cleanup: the guard outlives the
 * benchmark, detaches what is still mounted in the temp dir, ends what still
 * runs and removes the temp dir. It is the subreaper of what the benchmark
 * starts, so that the daemons of a dead benchmark become its children.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "bench_i.h"

#define GUARD_GRACE_S 15 /* after a signal, before the guard ends the daemons */

/*
 * Signal @sig to each child of @parent; with @leaders, only those that lead
 * a process group (umm-fs's), and to their whole group. Return: how many.
 */
static unsigned int signal_children(pid_t parent, int sig, bool leaders)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	unsigned int n = 0;
	int fd, ppid, pgid;
	ssize_t len;
	pid_t pid;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid = (pid_t)strtol(de->d_name, &p, 10);
		if (pid <= 0 || *p ||
		    tool_fmt_path(path, sizeof(path), "/proc/%d/stat", (int)pid) < 0)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid pgrp ...": comm may hold anything but the last ')' */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %*c %d %d", &ppid, &pgid) != 2 || ppid != parent)
			continue;
		if (leaders && pgid != pid)
			continue;
		kill(leaders ? -pid : pid, sig);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * End and reap every child of ours: what a dead benchmark left (its
 * daemons, a wrapper's children) comes to us. They get a moment to leave
 * by themselves (their mounts are gone), then SIGTERM, then SIGKILL.
 * Return: how many had to be signalled.
 */
static unsigned int end_orphans(void)
{
	uint64_t t0 = tool_now_ns(), ms;
	unsigned int n = 0, step = 0;
	int status;
	pid_t r;

	for (;;) {
		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (r < 0 && errno == ECHILD)
			return n;
		ms = (tool_now_ns() - t0) / 1000000ULL;
		if (ms >= 12000) {
			tool_complain(0, "processes of umm-bench do not die: left running");
			return n;
		}
		if ((step == 0 && ms >= 1000) || (step == 1 && ms >= 3000)) {
			n += signal_children(getpid(), step ? SIGKILL : SIGTERM, false);
			step++;
		}
		tool_sleep_ms(10);
	}
}

/*
 * After the benchmark: whatever it left (it died, or its cleanup could
 * not finish), detach its mounts, end its processes, remove its files.
 */
static void guard_cleanup(struct bench *b, pid_t bench)
{
	static const char *const dirs[] = { "umm", "umm-nopt", "tmpfs" };
	char path[PATH_MAX];
	unsigned int i, mounts = 0, procs;
	bool busy = false;
	int ret;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (tool_fmt_path(path, sizeof(path), "%s/%s", b->tmp, dirs[i]) < 0 ||
		    tool_is_mounted(path) != 1)
			continue;
		bench_unmount_path(path, true);
		mounts++;
		if (tool_is_mounted(path) != 0) {
			tool_complain(0, "%s is still mounted (left behind)", path);
			busy = true;
		}
	}
	procs = end_orphans();
	if (tool_fmt_path(path, sizeof(path), "/dev/shm/umm-bench.%d", (int)bench) == 0 &&
	    access(path, F_OK) == 0)
		bench_remove_tree(path);
	ret = busy || access(b->tmp, F_OK) < 0 ? 0 : bench_remove_tree(b->tmp);
	if (ret < 0)
		tool_complain(-ret, "rmdir %s (left behind)", b->tmp);
	if (mounts)
		tool_complain(0, "detached %u mount%s the benchmark left", mounts,
			      mounts == 1 ? "" : "s");
	if (procs)
		tool_complain(0, "ended %u process%s the benchmark left", procs,
			      procs == 1 ? "" : "es");
}

/**
 * bench_guard_main() - run bench_main() in a child, and clean up after it.
 * @cfg: the options.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT go on to the benchmark. If it has not ended
 * GUARD_GRACE_S seconds after the first, it is stuck in a request to a
 * daemon that does not answer: the daemons are killed, which fails the
 * request, and the benchmark goes on to its cleanup.
 *
 * Return: the benchmark's exit status (128 + N if it died of signal N).
 */
int bench_guard_main(const struct config *cfg)
{
	struct bench *b = &the_bench;
	sigset_t set, old;
	siginfo_t si;
	int status = 0, sig;
	bool armed = false, warned = false;
	pid_t pid, r;

	b->umm_fs = tool_find_umm_fs(cfg->umm_fs);
	if (!b->umm_fs)
		return 1;
	if (tool_make_tmp(b->tmp, sizeof(b->tmp)) < 0) {
		free(b->umm_fs);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		tool_complain(errno, "fork (the benchmark runs unguarded)");
		sigprocmask(SIG_SETMASK, &old, NULL);
		return bench_main(cfg);
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		exit(bench_main(cfg));
	}
	free(b->umm_fs);
	b->umm_fs = NULL;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			tool_complain(errno, "waitpid");
			status = 1 << 8;
			break;
		}
		sig = sigwaitinfo(&set, &si);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
			kill(pid, sig);
			if (!armed)
				alarm(GUARD_GRACE_S); /* from the first signal on: never put off */
			armed = true;
		} else if (sig == SIGALRM && !warned) {
			warned = true;
			tool_complain(
				0,
				"still running %d s after a signal: a umm-fs does not answer? "
				"killing the daemons",
				GUARD_GRACE_S);
			signal_children(pid, SIGKILL, true);
		}
	}
	alarm(0);
	guard_cleanup(b, pid);
	if (WIFSIGNALED(status)) {
		tool_complain(0, "the benchmark died of SIG%s; cleaned up after it",
			      sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) :
							       "?");
		return 128 + WTERMSIG(status);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
