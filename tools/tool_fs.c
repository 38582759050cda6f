// SPDX-License-Identifier: MIT
/*
 * tool_fs.c - a umm-fs of our own (umm-demo's, umm-bench's): the temp dir it
 * goes in, starting it as our child, waiting until it has mounted (and
 * answers), ending it, the end of its log; and taking a mount down, which
 * may be busy or whose daemon may be gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "tool_i.h"

/**
 * tool_make_tmp() - make our temp dir, $TMPDIR/PROGRAM.XXXXXX.
 * @dir: its real path on success ("" on failure).
 * @len: the room in @dir.
 *
 * Return: 0, or -errno with a message printed.
 */
int tool_make_tmp(char *dir, size_t len)
{
	const char *tmpdir = getenv("TMPDIR");
	char templ[PATH_MAX], real[PATH_MAX];
	int ret;

	dir[0] = '\0';
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	ret = tool_fmt_path(templ, sizeof(templ), "%s/%s.XXXXXX", tmpdir, tool_name());
	if (ret < 0) {
		tool_complain(-ret, "$TMPDIR");
		return ret;
	}
	if (!mkdtemp(templ)) {
		ret = -errno;
		tool_complain(-ret, "mkdtemp %s", templ);
		return ret;
	}
	/* The kernel lists mount points without symlinks: so must we. */
	if (!realpath(templ, real))
		ret = -errno;
	else if (strlen(real) >= len)
		ret = -ENAMETOOLONG;
	if (ret < 0) {
		tool_complain(-ret, "realpath %s", templ);
		rmdir(templ);
		return ret;
	}
	memcpy(dir, real, strlen(real) + 1);
	return 0;
}

/* Undo the octal escapes (\040 and the like) of a /proc/self/mountinfo field. */
static void unescape_mountinfo(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/**
 * tool_is_mounted() - is something mounted on @path?
 *
 * Read from /proc/self/mountinfo: a stat of a FUSE mount point would wait for
 * the very daemon this asks about.
 * Return: 1, 0, or -errno.
 */
int tool_is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *field, *save;
	size_t cap = 0;
	int found = 0, i;

	if (!f)
		return -errno;
	while (!found && getline(&line, &cap, f) > 0) {
		/* field 5 is the mount point */
		field = strtok_r(line, " ", &save);
		for (i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		unescape_mountinfo(field);
		found = strcmp(field, path) == 0;
	}
	free(line);
	fclose(f);
	return found;
}

/* Run "fusermount3 -u -q|-z @mnt" and wait; 0 when it succeeded. */
static int fusermount_u(const char *mnt, bool lazy)
{
	char *prog = tool_path_search("fusermount3");
	char *argv[] = { prog, "-u", lazy ? "-z" : "-q", (char *)mnt, NULL };
	int status = 0;
	pid_t pid;

	if (!prog)
		return -ENOENT;
	pid = tool_spawn(prog, argv, NULL, 0, -1, TOOL_SPAWN_STDIN_NULL);
	free(prog);
	if (pid < 0)
		return (int)pid;
	if (tool_end_child(pid, 10000, &status) < 0)
		return -EBUSY;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

/**
 * tool_unmount() - take the mount on @mnt down, while it is busy @tries times.
 * @mnt:   the mount point.
 * @tries: how many unmounts to try, 100 ms apart (1 when its daemon is gone:
 *         a busy mount would never be less busy).
 *
 * As root, umount2() directly; otherwise fusermount3 -u, as FUSE mounts of
 * unprivileged users go. EBUSY right after the last user went is common
 * (its last releases reach the kernel a little later): hence the tries.
 *
 * Return: 0 when nothing is mounted there any more, else the -errno of the
 * last try (then tool_detach() is what is left to do).
 */
int tool_unmount(const char *mnt, unsigned int tries)
{
	unsigned int i;
	int ret = -EBUSY;

	for (i = 0; i < tries; i++) {
		if (!mnt[0] || tool_is_mounted(mnt) != 1)
			return 0;
		if (i)
			tool_sleep_ms(100);
		if (geteuid() == 0)
			ret = umount2(mnt, 0) == 0 ? 0 : -errno;
		else
			ret = fusermount_u(mnt, false);
	}
	return !mnt[0] || tool_is_mounted(mnt) != 1 ? 0 : ret;
}

/* Detach the mount on @mnt lazily: it goes when its last user does. */
void tool_detach(const char *mnt)
{
	if (geteuid() == 0)
		umount2(mnt, MNT_DETACH);
	else
		fusermount_u(mnt, true);
}

/* An empty @fs: no paths, no daemon. */
void tool_fs_init(struct tool_fs *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->pid = -1;
}

/**
 * tool_fs_start() - start umm-fs on @fs->root, in the foreground.
 * @fs:     root (made already), sock and log set; gets the daemon's pid.
 * @umm_fs: the program.
 * @opts:   its -o options (socket=@fs->sock and more).
 * @flags:  TOOL_SPAWN_* for the daemon (stdin is /dev/null in any case).
 * @what:   on failure, what failed, for the caller's message: @fs->log, or "fork".
 *
 * The daemon is our child, in a process group of its own (a Ctrl-C reaches
 * us alone: we unmount first, and it leaves then), and logs into @fs->log.
 *
 * Return: 0, or -errno.
 */
int tool_fs_start(struct tool_fs *fs, const char *umm_fs, const char *opts, unsigned int flags,
		  const char **what)
{
	char *argv[] = { (char *)umm_fs, fs->root, "-f", "-o", (char *)opts, NULL };
	int logfd, ret;
	pid_t pid;

	logfd = open(fs->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		ret = -errno;
		*what = fs->log;
		return ret;
	}
	pid = tool_spawn(umm_fs, argv, NULL, 0, logfd, flags | TOOL_SPAWN_STDIN_NULL);
	close(logfd);
	if (pid < 0) {
		*what = "fork";
		return (int)pid;
	}
	fs->pid = pid;
	return 0;
}

/* Has @fs's daemon exited (it is left unreaped)? */
bool tool_fs_exited(const struct tool_fs *fs)
{
	return fs->pid > 0 && tool_child_exited(fs->pid);
}

/*
 * Does the umm on @fs->root answer, by @end? A mount in the table is not yet
 * a umm that answers: the daemon may still be in its init, or fail there,
 * unmount and exit, and what runs on the mount point then runs on the bare
 * directory below it. So a statfs() must find a FUSE file system there; it is
 * made by a child, as a FUSE request waits for a daemon stuck in its init past
 * every signal but SIGKILL.
 */
static int wait_answer(const struct tool_fs *fs, uint64_t end)
{
	struct statfs sf;
	int status = 0, ret;
	pid_t pid, r;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (statfs(fs->root, &sf) < 0)
			_exit(errno > 0 && errno < 255 ? errno : EIO);
		_exit(sf.f_type == FUSE_SUPER_MAGIC ? 0 : 255);
	}
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (tool_signal || tool_now_ns() >= end || (r < 0 && errno != EINTR)) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return tool_signal ? -EINTR : -ETIMEDOUT;
		}
		tool_sleep_ms(2);
	}
	if (!WIFEXITED(status))
		ret = -EIO;
	else if (WEXITSTATUS(status) == 255)
		ret = -ENODEV;
	else
		ret = -WEXITSTATUS(status);
	/* A failing umm-fs closes /dev/fuse a little before it can be reaped. */
	if (ret < 0 && tool_wait_exited(fs->pid, 1000))
		return -ECHILD;
	return ret;
}

/**
 * tool_fs_wait() - wait until @fs's umm-fs has mounted, by @end.
 * @fs:      started with tool_fs_start().
 * @end:     the deadline, in tool_now_ns() time.
 * @answer:  also wait until the mount answers a statfs() as a FUSE mount.
 * @mounted: if not NULL, set to whether the mount showed in the mount table.
 *
 * Return: 0; -ECHILD when the daemon exited (it is left unreaped:
 * tool_fs_end() reaps it and gives its status); -ETIMEDOUT; -EINTR on
 * tool_signal; the -errno of reading /proc/self/mountinfo; with @answer, the
 * -errno of statfs() (-ENODEV: no FUSE mount there any more).
 */
int tool_fs_wait(const struct tool_fs *fs, uint64_t end, bool answer, bool *mounted)
{
	int ret;

	if (mounted)
		*mounted = false;
	for (;;) {
		ret = tool_is_mounted(fs->root);
		if (ret < 0)
			return ret;
		if (ret)
			break;
		if (tool_fs_exited(fs))
			return -ECHILD;
		if (tool_signal)
			return -EINTR;
		if (tool_now_ns() >= end)
			return -ETIMEDOUT;
		tool_sleep_ms(5);
	}
	if (mounted)
		*mounted = true;
	return answer ? wait_answer(fs, end) : 0;
}

/**
 * tool_fs_end() - end @fs's umm-fs and whatever else runs in its process group.
 * @fs: after, fs->pid is -1 and fs->status is set (unless it would not die).
 * @ms: how long it may take to leave by itself (it does once unmounted).
 *
 * Then SIGTERM, then SIGKILL, to the whole group: a --umm-fs that is a
 * script would leave its own children running if it alone were signalled.
 * The group is signalled only while the daemon is unreaped, when its id
 * cannot belong to anyone else.
 */
void tool_fs_end(struct tool_fs *fs, unsigned int ms)
{
	pid_t pid = fs->pid;
	int status = 0;

	if (pid <= 0)
		return;
	if (!tool_wait_exited(pid, ms)) {
		kill(-pid, SIGTERM);
		if (!tool_wait_exited(pid, 2000)) {
			kill(-pid, SIGKILL);
			if (!tool_wait_exited(pid, 10000)) {
				tool_complain(0,
					      "umm-fs (pid %d) does not die even of SIGKILL: "
					      "left as it is",
					      (int)pid);
				fs->pid = -1;
				return;
			}
		}
	}
	kill(-pid, SIGKILL); /* what it left behind in its group, if anything */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fs->pid = -1;
	fs->status = status;
}

/**
 * tool_fs_log_tail() - the end of @fs's log: whole lines of its last @len - 1 bytes.
 * @fs:  the daemon.
 * @buf: where they go, without the last newline.
 * @len: the room in @buf.
 *
 * Return: the length of the text in @buf (0 when there is no log).
 */
size_t tool_fs_log_tail(const struct tool_fs *fs, char *buf, size_t len)
{
	int fd = open(fs->log, O_RDONLY | O_CLOEXEC);
	off_t size, off;
	ssize_t n;
	char *nl;

	buf[0] = '\0';
	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	off = size > (off_t)len - 1 ? size - (off_t)(len - 1) : 0;
	n = pread(fd, buf, len - 1, off);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	nl = strchr(buf, '\n');
	if (off > 0 && nl && nl[1])
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
	n = (ssize_t)strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (size_t)n;
}
