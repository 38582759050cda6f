// SPDX-License-Identifier: MIT
/*
 * tool.c - what every tool needs: its name and its messages, paths that must
 * fit, the clock, the signals that end a run, numbers from the command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool_i.h"

/* The program ("umm-demo"): for --version, and "beside umm-demo" in messages. */
static const char *prog = "umm";
/* The prefix of every message: the program, or "umm-demo producer" in a role. */
static char tag[32] = "umm";

volatile sig_atomic_t tool_signal;

/**
 * tool_init() - name the program: first thing in main().
 * @name: "umm-ls", "umm-demo" or "umm-bench"; must outlive every message.
 */
void tool_init(const char *name)
{
	prog = name;
	snprintf(tag, sizeof(tag), "%s", name);
}

/* The program, as tool_init() named it. */
const char *tool_name(void)
{
	return prog;
}

/* The prefix of our messages from now on (cut to 31 bytes). */
void tool_set_tag(const char *t)
{
	snprintf(tag, sizeof(tag), "%s", t);
}

/* The prefix of our messages. */
const char *tool_tag(void)
{
	return tag;
}

/**
 * tool_vsay() - one line "TAG: message[: strerror(@errnum)]" on @f.
 * @f:      stdout or stderr.
 * @errnum: an errno value to add, or 0.
 * @fmt:    the message, printf style.
 * @ap:     its arguments.
 *
 * One write(2) a line: umm-demo's four processes share the terminal. A line
 * too long for the buffer is cut short, but stays one line.
 */
void tool_vsay(FILE *f, int errnum, const char *fmt, va_list ap)
{
	char buf[2 * PATH_MAX];
	size_t len, off;
	ssize_t n;
	int ret;

	ret = snprintf(buf, sizeof(buf), "%s: ", tag);
	len = ret < 0 ? 0 : (size_t)ret;
	if (len < sizeof(buf)) {
		ret = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
		len += ret < 0 ? 0 : (size_t)ret;
	}
	if (errnum && len < sizeof(buf)) {
		ret = snprintf(buf + len, sizeof(buf) - len, ": %s", strerror(errnum));
		len += ret < 0 ? 0 : (size_t)ret;
	}
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	fflush(f);
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fileno(f), buf + off, len - off);
		if (n <= 0 && errno != EINTR)
			break;
		if (n < 0)
			n = 0;
	}
}

/* A line of what the tool does, on stdout. */
void tool_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_vsay(stdout, 0, fmt, ap);
	va_end(ap);
}

/* An error on stderr, with strerror(@errnum) unless @errnum is 0. */
void tool_complain(int errnum, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	tool_vsay(stderr, errnum, fmt, ap);
	va_end(ap);
}

/* snprintf that reports truncation as -ENAMETOOLONG. */
int tool_fmt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* CLOCK_MONOTONIC in nanoseconds: for deadlines and timings. */
uint64_t tool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleep @ms milliseconds, or less when a signal comes. */
void tool_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	/* An interruption ends the nap early: a caller that waits loops and checks. */
	nanosleep(&ts, NULL);
}

static void on_signal(int sig)
{
	tool_signal = sig;
}

/**
 * tool_catch_signals() - SIGINT, SIGTERM and SIGHUP set tool_signal; SIGPIPE
 * is ignored (a peer that went away shows as EPIPE).
 *
 * No SA_RESTART: a blocking call returns EINTR and its loop sees tool_signal,
 * so the tool cleans up (unmounts) before it leaves.
 */
void tool_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/**
 * tool_parse_uint() - a decimal number of the command line
 * @s:        the text: digits only
 * @min, @max: the range it must be in
 * @out:      set on success
 *
 * Return: 0, or -EINVAL.
 */
int tool_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/**
 * tool_interrupted() - the end of a run that tool_signal stopped.
 *
 * Says so (everything is cleaned up by then).
 * Return: the exit status, 128 + the signal.
 */
int tool_interrupted(void)
{
	tool_complain(0, "interrupted by SIG%s; cleaned up", sigabbrev_np(tool_signal));
	return 128 + tool_signal;
}

/**
 * tool_bad_usage() - a usage error, after getopt_long() or an extra argument
 * @arg: the argument that is one too many, or NULL when getopt_long() has
 *       already said what was wrong.
 */
void tool_bad_usage(const char *arg)
{
	if (arg)
		tool_complain(0, "unexpected argument '%s'; try '%s --help'", arg, prog);
	else
		fprintf(stderr, "Try '%s --help'.\n", prog);
}

/* --version: "umm-demo 0.1.0". */
void tool_version(void)
{
	printf("%s %s\n", prog, UMM_VERSION);
}
