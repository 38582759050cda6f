/* SPDX-License-Identifier: MIT */
/*
 * tool_i.h - what the tools (umm-ls, umm-demo, umm-bench) share, grouped by
 * the file that holds it. None of it uses libumm or FUSE: a tool links only
 * the parts it calls (tool_lib is a static library).
 */
#ifndef UMM_TOOL_I_H
#define UMM_TOOL_I_H

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifndef UMM_VERSION
#define UMM_VERSION "unknown"
#endif
#ifndef UMM_SBINDIR
#define UMM_SBINDIR "/usr/local/sbin"
#endif

/* ---- tool.c: name, messages, paths, clock, signals, numbers -------------- */

void tool_init(const char *name);
const char *tool_name(void);
void tool_set_tag(const char *tag);
const char *tool_tag(void);
__attribute__((format(printf, 3, 0))) void tool_vsay(FILE *f, int errnum, const char *fmt,
						     va_list ap);
__attribute__((format(printf, 1, 2))) void tool_say(const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void tool_complain(int errnum, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int tool_fmt_path(char *buf, size_t len, const char *fmt,
							...);
uint64_t tool_now_ns(void);
void tool_sleep_ms(unsigned int ms);

/* The signal (SIGINT, SIGTERM, SIGHUP) that asked us to stop, or 0. */
extern volatile sig_atomic_t tool_signal;
void tool_catch_signals(void);

int tool_interrupted(void);
int tool_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out);
void tool_bad_usage(const char *arg);
void tool_version(void);

/* ---- tool_find.c: finding programs --------------------------------------- */

bool tool_is_executable(const char *path);
char *tool_path_search(const char *name);
char *tool_find(const char *name, const char *rel);
char *tool_find_umm_fs(const char *opt);

/* ---- tool_proc.c: child processes ---------------------------------------- */

#define TOOL_SPAWN_PDEATH 1U /* the child dies with us */
#define TOOL_SPAWN_STDIN_NULL 2U /* its stdin is /dev/null */
#define TOOL_SPAWN_NOFILE_MAX 4U /* raise its RLIMIT_NOFILE hard limit (as root) */

pid_t tool_spawn(const char *path, char *const argv[], const int *keep, unsigned int nkeep, int out,
		 unsigned int flags);
int tool_wait_pid(pid_t pid, int *status, unsigned int ms);
int tool_end_child(pid_t pid, unsigned int grace_ms, int *status);
bool tool_child_exited(pid_t pid);
bool tool_wait_exited(pid_t pid, unsigned int ms);
const char *tool_status_text(int status, bool signum, char *buf, size_t len);

/* ---- tool_fs.c: a umm-fs of our own, and taking mounts down -------------- */

/* A umm-fs we run as our child, in the foreground, in a process group of its own. */
struct tool_fs {
	char root[PATH_MAX]; /* its mount point */
	char sock[PATH_MAX]; /* its export socket */
	char log[PATH_MAX]; /* its stdout and stderr */
	pid_t pid; /* -1, or the daemon: unreaped until tool_fs_end() */
	int status; /* its wait status, once tool_fs_end() reaped it */
};

int tool_make_tmp(char *dir, size_t len);
int tool_is_mounted(const char *path);
int tool_unmount(const char *mnt, unsigned int tries);
void tool_detach(const char *mnt);
void tool_fs_init(struct tool_fs *fs);
int tool_fs_start(struct tool_fs *fs, const char *umm_fs, const char *opts, unsigned int flags,
		  const char **what);
int tool_fs_wait(const struct tool_fs *fs, uint64_t end, bool answer, bool *mounted);
bool tool_fs_exited(const struct tool_fs *fs);
void tool_fs_end(struct tool_fs *fs, unsigned int ms);
size_t tool_fs_log_tail(const struct tool_fs *fs, char *buf, size_t len);

/* ---- tool_text.c: names and values on a terminal, and in JSON ------------ */

void tool_put_text(FILE *f, const char *s);
void tool_json_str(FILE *f, const char *s);

/* ---- tool_attr.c: umm's extended attributes ------------------------------ */

int tool_xattr_get(const char *path, bool follow, const char *name, char **value);
int tool_xattr_set_u64(const char *path, const char *name, uint64_t value);
const char *tool_attr_value(const char *line, const char *key, size_t *len);

#endif /* UMM_TOOL_I_H */
