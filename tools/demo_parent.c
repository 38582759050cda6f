// SPDX-License-Identifier: MIT
/*
 * demo_parent.c - umm-demo itself, the parent of the pipeline, in the order
 * of a run: mount a temporary umm (or check the one given with -m), make
 * the ring directory and its buffers, start the producer, the filter and the
 * consumer (demo_roles.c) with the sockets that link them, tell them to go,
 * wait until they are done, report (demo_report.c) and list the ring while
 * they still hold it, then end them, remove the ring and unmount.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "demo_i.h"

/* Room the mount gets beyond the ring itself (the root and the ring dir). */
#define MOUNT_SLACK (16UL << 20)
#define MOUNT_TIMEOUT_MS 10000
#define READY_TIMEOUT_MS 30000

static struct demo the_demo;

/* ---- before the run: the output dir, umm-ls, a mount given with -m ------- */

/* The output dir: made if missing, and named absolutely for the consumer. */
static int prepare_outdir(struct demo *d)
{
	int ret;

	if (mkdir(d->cfg->outdir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		tool_complain(-ret, "mkdir %s", d->cfg->outdir);
		return ret;
	}
	if (!realpath(d->cfg->outdir, d->outdir)) {
		ret = -errno;
		tool_complain(-ret, "%s", d->cfg->outdir);
		return ret;
	}
	if (access(d->outdir, W_OK) < 0) {
		ret = -errno;
		tool_complain(-ret, "%s", d->outdir);
		return ret;
	}
	return 0;
}

/* umm-ls: $UMM_LS where it exists, beside this program, $PATH; or NULL. */
static char *find_umm_ls(void)
{
	const char *env = getenv("UMM_LS");

	/* $UMM_LS may name a tool not built yet: then look further. */
	if (env && *env && tool_is_executable(env))
		return strdup(env);
	return tool_find("umm-ls", "umm-ls");
}

/* -m: check that @d->cfg->mount is the root of a umm mount. */
static int use_mount(struct demo *d)
{
	char stats[512];
	int ret;

	if (!realpath(d->cfg->mount, d->fs.root)) {
		ret = -errno;
		tool_complain(-ret, "%s", d->cfg->mount);
		return ret;
	}
	ret = demo_read_stats(d, stats, sizeof(stats));
	if (ret < 0) {
		tool_complain(-ret, "%s is not the root of a umm mount (no %s)", d->fs.root,
			      STATS_XATTR);
		return ret;
	}
	tool_say("using the umm mounted on %s", d->fs.root);
	return 0;
}

/* ---- our own mount ------------------------------------------------------- */

/* Print the daemon's log, if it said anything. */
static void show_fs_log(struct demo *d)
{
	char line[1024];
	bool first = true;
	FILE *f;

	if (!d->fs.log[0])
		return;
	f = fopen(d->fs.log, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (first)
			tool_complain(0, "umm-fs said:");
		first = false;
		fprintf(stderr, "  %s%s", line, strchr(line, '\n') ? "" : "\n");
	}
	fclose(f);
}

/**
 * mount_temp() - mount umm-fs on a new temporary directory.
 * @d: the demo; fills tmp and fs.
 *
 * umm-fs runs in the foreground as our child (-f), logging into the temp
 * dir, with a budget just large enough for the ring. We wait until the
 * mount shows in /proc/self/mountinfo, or the daemon ends, or 10 s pass.
 *
 * Return: 0, or -errno with a message printed.
 */
static int mount_temp(struct demo *d)
{
	struct tool_fs *fs = &d->fs;
	char opts[PATH_MAX + 64], st[64];
	const char *what;
	int ret;

	ret = tool_make_tmp(d->tmp, sizeof(d->tmp));
	if (ret < 0)
		return ret;
	if (tool_fmt_path(fs->root, sizeof(fs->root), "%s/mnt", d->tmp) < 0 ||
	    tool_fmt_path(fs->sock, sizeof(fs->sock), "%s/sock", d->tmp) < 0 ||
	    tool_fmt_path(fs->log, sizeof(fs->log), "%s/umm-fs.log", d->tmp) < 0 ||
	    tool_fmt_path(opts, sizeof(opts), "socket=%s,size=%zu", fs->sock,
			  d->slot_bytes * d->cfg->ring + MOUNT_SLACK) < 0) {
		tool_complain(ENAMETOOLONG, "%s", d->tmp);
		return -ENAMETOOLONG;
	}
	if (mkdir(fs->root, 0755) < 0) {
		ret = -errno;
		tool_complain(-ret, "mkdir %s", fs->root);
		return ret;
	}
	ret = tool_fs_start(fs, d->umm_fs, opts, 0, &what);
	if (ret < 0) {
		tool_complain(-ret, "%s", what);
		return ret;
	}
	d->fs_started = true;

	ret = tool_fs_wait(fs, tool_now_ns() + MOUNT_TIMEOUT_MS * 1000000ULL, false, NULL);
	switch (ret) {
	case 0:
		break;
	case -ECHILD:
		tool_fs_end(fs, 0);
		tool_complain(0, "%s exited before it mounted (%s)", d->umm_fs,
			      tool_status_text(fs->status, true, st, sizeof(st)));
		return ret;
	case -EINTR:
		return ret;
	case -ETIMEDOUT:
		tool_complain(0, "%s did not mount %s within %d s", d->umm_fs, fs->root,
			      MOUNT_TIMEOUT_MS / 1000);
		return ret;
	default:
		tool_complain(-ret, "/proc/self/mountinfo");
		return ret;
	}
	tool_say("mounted %s on %s (pid %d, -o %s)", d->umm_fs, fs->root, (int)fs->pid, opts);
	return 0;
}

/**
 * unmount_temp() - take our mount down and end the daemon.
 * @d: the demo.
 *
 * EBUSY right after the roles ended is retried for a while (their last
 * releases reach the kernel a little later); then a lazy unmount. The
 * daemon leaves when its mount goes, or is ended.
 *
 * Return: 0, or -1 when something went wrong (reported).
 */
static int unmount_temp(struct demo *d)
{
	struct tool_fs *fs = &d->fs;
	bool took_down = false;
	int ret, failed = 0;
	pid_t pid = fs->pid;
	char st[64];

	if (pid > 0 && tool_is_mounted(fs->root) == 1) {
		ret = tool_unmount(fs->root, 50);
		if (ret < 0) {
			tool_complain(-ret, "unmounting %s; detaching it instead", fs->root);
			tool_detach(fs->root);
			failed = 1;
		}
		took_down = ret == 0;
	}
	if (pid > 0) {
		/*
		 * Unmounted, the daemon leaves by itself, and must do so cleanly.
		 * Interrupted before it mounted, it is simply ended.
		 */
		tool_fs_end(fs, took_down ? 5000 : 200);
		if (took_down && (!WIFEXITED(fs->status) || WEXITSTATUS(fs->status) != 0)) {
			tool_complain(0, "umm-fs (pid %d) ended with %s", (int)pid,
				      tool_status_text(fs->status, true, st, sizeof(st)));
			failed = 1;
		}
	}
	/* A daemon ended before we saw it mount may have mounted meanwhile. */
	if (tool_is_mounted(fs->root) == 1)
		tool_detach(fs->root);
	return failed ? -1 : 0;
}

/* ---- the ring ------------------------------------------------------------ */

/* Set a number attribute; a message on failure. */
static int set_attr(const char *path, const char *name, uint64_t value)
{
	int ret = tool_xattr_set_u64(path, name, value);

	if (ret < 0)
		tool_complain(-ret, "setfattr -n %s -v %" PRIu64 " %s", name, value, path);
	return ret;
}

/* Set a text attribute; a message on failure. */
static int set_str_attr(const char *path, const char *name, const char *value)
{
	int ret = setxattr(path, name, value, strlen(value), 0) == 0 ? 0 : -errno;

	if (ret < 0)
		tool_complain(
			-ret, "setfattr -n %s -v \"%s\" %s%s", name, value, path,
			ret == -EOPNOTSUPP || ret == -EINVAL ? " (the daemon's log says why)" : "");
	return ret;
}

/**
 * make_ring() - the ring directory, its constraints and its buffers.
 * @d: the demo.
 *
 * user.umm.size makes every new buffer one frame, allocated at creation and
 * sized at once (LIFE CYCLE OF A BUFFER in umm(7)), so every later open for
 * reading is a passthrough open whose mmap maps the buffer's pages.
 * user.umm.max_bytes caps the ring at exactly its buffers.
 *
 * Return: 0, or -errno with a message printed.
 */
static int make_ring(struct demo *d)
{
	char path[PATH_MAX], *eff = NULL;
	struct stat st;
	unsigned int i;
	int fd, ret;

	ret = tool_fmt_path(d->ring_dir, sizeof(d->ring_dir), "%s/%s", d->fs.root, RING_NAME);
	if (ret < 0) {
		tool_complain(-ret, "%s/%s", d->fs.root, RING_NAME);
		return ret;
	}
	if (mkdir(d->ring_dir, 0755) < 0) {
		ret = -errno;
		tool_complain(-ret, "mkdir %s", d->ring_dir);
		return ret;
	}
	d->ring_made = true;
	if (d->cfg->heap)
		ret = set_str_attr(d->ring_dir, "user.umm.heap", d->cfg->heap);
	if (ret == 0 && d->cfg->cache)
		ret = set_str_attr(d->ring_dir, "user.umm.cache", d->cfg->cache);
	if (ret == 0 && d->cfg->camera) {
		/* the size that fits both devices, and every buffer checked by both */
		char devs[2 * PATH_MAX + 2];

		snprintf(devs, sizeof(devs), "%s%s%s", d->cfg->camera, d->cfg->display ? " " : "",
			 d->cfg->display ? d->cfg->display : "");
		ret = set_str_attr(d->ring_dir, "user.umm.size_from", devs);
		if (ret == 0)
			ret = set_str_attr(d->ring_dir, "user.umm.devices", devs);
	} else if (ret == 0) {
		ret = set_attr(d->ring_dir, "user.umm.size", d->frame_bytes);
	}
	if (ret == 0)
		ret = set_attr(d->ring_dir, "user.umm.max_bytes", d->slot_bytes * d->cfg->ring);
	if (ret < 0)
		return ret;
	for (i = 0; i < d->cfg->ring; i++) {
		ret = tool_fmt_path(path, sizeof(path), "%s/frame%u", d->ring_dir, i);
		if (ret < 0) {
			tool_complain(-ret, "%s/frame%u", d->ring_dir, i);
			return ret;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			ret = -errno;
			tool_complain(-ret, "creating %s", path);
			return ret;
		}
		d->nr_made = i + 1;
		ret = fstat(fd, &st) < 0 ? -errno : 0;
		close(fd);
		if (ret < 0) {
			tool_complain(-ret, "stat %s", path);
			return ret;
		}
		if ((uint64_t)st.st_size < (d->cfg->camera ? d->slot_bytes : d->frame_bytes)) {
			tool_complain(0, "%s is %jd bytes, not the %zu of user.umm.size", path,
				      (intmax_t)st.st_size,
				      d->cfg->camera ? d->slot_bytes : d->frame_bytes);
			return -EPROTO;
		}
	}
	if (tool_xattr_get(d->ring_dir, true, "user.umm.effective", &eff) < 0)
		eff = NULL;
	if (d->cfg->camera) {
		char a[5];

		tool_say("ring %s: %u buffers frame0..frame%u of %zu bytes, for %s (%ux%u %s, %u "
			 "bytes a frame)%s%s",
			 d->ring_dir, d->cfg->ring, d->cfg->ring - 1, d->slot_bytes, d->cfg->camera,
			 d->cam.width, d->cam.height, demo_fourcc(d->cam.pixelformat, a),
			 d->cam.sizeimage, d->cfg->display ? " and " : "",
			 d->cfg->display ? d->cfg->display : "");
	} else {
		tool_say("ring %s: %u buffers frame0..frame%u of %ux%u RGBA (%zu bytes each)",
			 d->ring_dir, d->cfg->ring, d->cfg->ring - 1, d->cfg->width, d->cfg->height,
			 d->frame_bytes);
	}
	tool_say("  user.umm.effective: %s", eff ? eff : "");
	free(eff);
	return 0;
}

/* Remove what make_ring() made (on a mount of someone else's: -m). */
static void remove_ring(struct demo *d)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < d->nr_made; i++)
		if (tool_fmt_path(path, sizeof(path), "%s/frame%u", d->ring_dir, i) == 0 &&
		    unlink(path) < 0 && errno != ENOENT)
			tool_complain(errno, "rm %s", path);
	if (d->ring_made && rmdir(d->ring_dir) < 0 && errno != ENOENT)
		tool_complain(errno, "rmdir %s", d->ring_dir);
	d->nr_made = 0;
	d->ring_made = false;
}

/* ---- the roles ----------------------------------------------------------- */

/**
 * start_roles() - fork and exec the producer, the filter and the consumer.
 * @d: the demo.
 *
 * Three socket pairs link them in a circle (producer -> filter -> consumer
 * -> producer); each role also gets a socket pair with us. Each gets its
 * sockets as fds 3 (us), 4 (from the previous role) and 5 (to the next).
 *
 * Return: 0, or -errno with a message printed.
 */
static int start_roles(struct demo *d)
{
	const struct demo_config *cfg = d->cfg;
	int link[NR_ROLES][2], ctl[NR_ROLES][2], keep[3], i, j, ret = 0;
	char w[16], h[16], n[16], r[16], fb[24];
	pid_t pid;

	for (i = 0; i < NR_ROLES; i++)
		link[i][0] = link[i][1] = ctl[i][0] = ctl[i][1] = -1;
	for (i = 0; i < NR_ROLES && ret == 0; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link[i]) < 0 ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl[i]) < 0)
			ret = -errno;
	if (ret < 0) {
		tool_complain(-ret, "socketpair");
		goto out;
	}
	snprintf(w, sizeof(w), "%u", cfg->width);
	snprintf(h, sizeof(h), "%u", cfg->height);
	snprintf(n, sizeof(n), "%u", cfg->frames);
	snprintf(r, sizeof(r), "%u", cfg->ring);

	snprintf(fb, sizeof(fb), "%zu", d->frame_bytes);
	for (i = 0; i < NR_ROLES; i++) {
		char *argv[24] = { d->self,	"--role", (char *)demo_role_names[i],
				   "-W",	w,	  "-H",
				   h,		"-n",	  n,
				   "-r",	r,	  "--ring-dir",
				   d->ring_dir, "-o",	  d->outdir,
				   NULL };
		int a = 15;

		if (cfg->camera) {
			argv[a++] = "--camera";
			argv[a++] = (char *)cfg->camera;
			argv[a++] = "--frame-bytes";
			argv[a++] = fb;
		}
		if (cfg->display) {
			argv[a++] = "--display";
			argv[a++] = (char *)cfg->display;
		}
		argv[a] = NULL;

		/* link[i] runs from role i to role i + 1. */
		keep[0] = ctl[i][1];
		keep[1] = link[(i + NR_ROLES - 1) % NR_ROLES][1];
		keep[2] = link[i][0];
		/* This very program, whatever became of its path since. */
		pid = tool_spawn("/proc/self/exe", argv, keep, 3, -1,
				 TOOL_SPAWN_PDEATH | TOOL_SPAWN_STDIN_NULL);
		if (pid < 0) {
			ret = (int)pid;
			tool_complain(-ret, "fork");
			goto out;
		}
		d->roles[i].pid = pid;
		d->roles[i].ctl = ctl[i][0];
		ctl[i][0] = -1;
	}
	tool_say("started producer (pid %d) -> filter (pid %d) -> consumer (pid %d)",
		 (int)d->roles[ROLE_PRODUCER].pid, (int)d->roles[ROLE_FILTER].pid,
		 (int)d->roles[ROLE_CONSUMER].pid);
out:
	/* Only the roles keep the links: a role's end then shows as EOF to its peers. */
	for (i = 0; i < NR_ROLES; i++)
		for (j = 0; j < 2; j++) {
			if (link[i][j] >= 0)
				close(link[i][j]);
			if (ctl[i][j] >= 0)
				close(ctl[i][j]);
		}
	return ret;
}

/**
 * roles_ended() - a role closed its socket to us early: say how the roles ended.
 * @d: the demo.
 * @i: the role whose socket closed.
 *
 * One role's end makes its neighbours leave too, and the first we notice
 * need not be the first that failed: so every role that has ended within a
 * moment is reported, and the one killed by a signal stands out. Those still
 * running are left to demo_cleanup().
 */
static void roles_ended(struct demo *d, int i)
{
	struct role_proc *rp = &d->roles[i];
	char st[64];
	int j;

	if (!rp->reaped) {
		tool_end_child(rp->pid, 2000, &rp->status);
		rp->reaped = true;
	}
	tool_sleep_ms(200);
	for (j = 0; j < NR_ROLES; j++) {
		rp = &d->roles[j];
		if (!rp->reaped && rp->pid > 0 && waitpid(rp->pid, &rp->status, WNOHANG) == rp->pid)
			rp->reaped = true;
		if (rp->reaped)
			tool_complain(0, "the %s (pid %d) ended early: %s", demo_role_names[j],
				      (int)rp->pid,
				      tool_status_text(rp->status, true, st, sizeof(st)));
	}
}

/**
 * wait_roles() - wait until every role has sent a message of @type.
 * @d:          the demo.
 * @type:       MSG_READY or MSG_DONE.
 * @timeout_ms: the limit, or -1 for none (a long run is no failure; a role
 *              that dies still shows, as EOF).
 *
 * Return: 0; -EINTR on SIGINT, SIGTERM or SIGHUP; -ETIMEDOUT; -EPIPE when a
 * role ended; -EPROTO for a message out of turn (each reported but -EINTR).
 */
static int wait_roles(struct demo *d, uint32_t type, int timeout_ms)
{
	uint64_t end = tool_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ULL,
		 now;
	struct pollfd pfd[NR_ROLES];
	int idx[NR_ROLES], i, n, ret, wait_ms;
	struct role_proc *rp;
	struct demo_msg m;

	for (;;) {
		for (i = n = 0; i < NR_ROLES; i++) {
			rp = &d->roles[i];
			if (type == MSG_READY ? rp->have_ready : rp->have_done)
				continue;
			pfd[n] = (struct pollfd){ .fd = rp->ctl, .events = POLLIN };
			idx[n++] = i;
		}
		if (!n)
			return 0;
		if (tool_signal)
			return -EINTR;
		wait_ms = -1;
		if (timeout_ms >= 0) {
			now = tool_now_ns();
			if (now >= end) {
				tool_complain(0, "the %s did not get ready within %d s",
					      demo_role_names[idx[0]], timeout_ms / 1000);
				return -ETIMEDOUT;
			}
			wait_ms = (int)((end - now) / 1000000ULL) + 1;
		}
		if (poll(pfd, (nfds_t)n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			tool_complain(-ret, "poll");
			return ret;
		}
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			rp = &d->roles[idx[i]];
			ret = demo_recv_msg(rp->ctl, &m, NULL, NULL);
			if (ret == -EPIPE) {
				roles_ended(d, idx[i]);
				return ret;
			}
			if (ret == 0 && m.type != type)
				ret = -EPROTO;
			if (ret < 0) {
				tool_complain(-ret, "message from the %s", demo_role_names[idx[i]]);
				return ret;
			}
			if (type == MSG_READY) {
				rp->ready = m;
				rp->have_ready = true;
			} else {
				rp->done = m;
				rp->have_done = true;
				if (idx[i] == ROLE_CONSUMER)
					d->t_end = tool_now_ns();
			}
		}
	}
}

/* Send every living role @type; 0, or the first error (reported). */
static int tell_roles(struct demo *d, uint32_t type)
{
	struct demo_msg m = { .type = type };
	int i, ret, first = 0;

	for (i = 0; i < NR_ROLES; i++) {
		if (d->roles[i].ctl < 0)
			continue;
		ret = demo_send_msg(d->roles[i].ctl, &m, NULL, 0);
		if (ret < 0 && !first) {
			tool_complain(-ret, "telling the %s", demo_role_names[i]);
			first = ret;
		}
	}
	return first;
}

/**
 * stop_roles() - end the roles and reap them.
 * @d:    the demo.
 * @quit: ask them to leave (MSG_QUIT) and expect exit status 0; otherwise
 *        just end them.
 *
 * Return: 0, or -1 when a role did not leave cleanly though asked (reported).
 */
static int stop_roles(struct demo *d, bool quit)
{
	struct role_proc *rp;
	int i, failed = 0;
	char st[64];

	if (quit)
		tell_roles(d, MSG_QUIT);
	for (i = 0; i < NR_ROLES; i++) {
		rp = &d->roles[i];
		if (rp->ctl >= 0) {
			/* EOF on this socket also tells a role that the run is over. */
			close(rp->ctl);
			rp->ctl = -1;
		}
	}
	for (i = 0; i < NR_ROLES; i++) {
		rp = &d->roles[i];
		if (rp->pid <= 0 || rp->reaped)
			continue;
		tool_end_child(rp->pid, quit ? 5000 : 1000, &rp->status);
		rp->reaped = true;
		if (quit && (!WIFEXITED(rp->status) || WEXITSTATUS(rp->status) != 0)) {
			tool_complain(0, "the %s (pid %d) ended with %s", demo_role_names[i],
				      (int)rp->pid,
				      tool_status_text(rp->status, true, st, sizeof(st)));
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

/* ---- the run, and the cleanup -------------------------------------------- */

/**
 * run_pipeline() - the roles, from start to the listing of the ring.
 * @d: the demo.
 *
 * Return: 0, or -errno / -1 with a message printed. The roles are left
 * running (holding the ring) for stop_roles().
 */
static int run_pipeline(struct demo *d)
{
	char before[512], after[512];
	bool memfd = false;
	int i, ret, failed = 0;

	ret = demo_read_stats(d, before, sizeof(before));
	if (ret < 0) {
		tool_complain(-ret, "getfattr -n %s %s", STATS_XATTR, d->fs.root);
		return ret;
	}
	ret = start_roles(d);
	if (ret < 0)
		return ret;
	ret = wait_roles(d, MSG_READY, READY_TIMEOUT_MS);
	if (ret < 0)
		return ret;
	for (i = 0; i < NR_ROLES; i++)
		memfd = memfd || (d->roles[i].ready.flags & MSG_F_MEMFD);
	if (d->cfg->camera)
		tool_say("the roles map the buffers through %s; the devices take their dma-bufs "
			 "from umm_open() and umm_export()",
			 memfd ? "the fds libumm gives" :
				 "their fds on the mount (FUSE passthrough)");
	else if (memfd)
		tool_say(
			"no FUSE passthrough here (an fd on the mount maps the page cache): the roles map "
			"the buffers' memfds from umm_open() and umm_export() instead");
	else
		tool_say(
			"each role maps the buffers through its fd on the mount (FUSE passthrough); "
			"the filter maps the fds the producer passed it");

	tool_say("running %u frames", d->cfg->frames);
	d->t_go = tool_now_ns();
	ret = tell_roles(d, MSG_GO);
	if (ret == 0)
		ret = wait_roles(d, MSG_DONE, -1);
	if (ret < 0)
		return ret;

	ret = demo_read_stats(d, after, sizeof(after));
	if (ret < 0) {
		tool_complain(-ret, "getfattr -n %s %s", STATS_XATTR, d->fs.root);
		return ret;
	}
	if (demo_report(d, before, after) < 0)
		failed = 1;
	if (demo_list_ring(d) < 0)
		failed = 1;
	if (d->cfg->camera && demo_v4l2_holders(d) < 0)
		failed = 1;
	return failed ? -1 : 0;
}

/**
 * demo_cleanup() - undo everything, in order; safe to call twice.
 * @d: the demo.
 *
 * Roles first (they hold the ring), then the ring on a mount that is not
 * ours, then our mount and its daemon, then the temp dir. Sets @d->failed
 * when something could not be undone.
 */
static void demo_cleanup(struct demo *d)
{
	if (d->cleaned)
		return;
	d->cleaned = true;
	if (stop_roles(d, false) < 0)
		d->failed = true;
	if (d->cfg && d->cfg->mount)
		remove_ring(d);
	if (d->fs_started && unmount_temp(d) < 0)
		d->failed = true;
	if (d->failed)
		show_fs_log(d);
	if (d->tmp[0]) {
		if (d->fs.log[0])
			unlink(d->fs.log);
		if (d->fs.sock[0])
			unlink(d->fs.sock);
		if (d->fs.root[0] && tool_is_mounted(d->fs.root) == 0)
			rmdir(d->fs.root);
		if (rmdir(d->tmp) < 0) {
			tool_complain(errno, "rmdir %s (left behind)", d->tmp);
			d->failed = true;
		}
	}
	free(d->umm_fs);
	free(d->umm_ls);
	d->umm_fs = d->umm_ls = NULL;
}

/* For exit() on a path that missed the cleanup: it must never leave a mount. */
static void demo_atexit(void)
{
	demo_cleanup(&the_demo);
}

/**
 * demo_main() - the parent: mount, ring, pipeline, report, cleanup.
 * @cfg: the options.
 *
 * Return: the exit status: 0, 1 on any failure, 128 + N after signal N.
 */
int demo_main(const struct demo_config *cfg)
{
	struct demo *d = &the_demo;
	long psz = sysconf(_SC_PAGESIZE);
	int i, ok = 0;
	ssize_t n;

	d->cfg = cfg;
	tool_fs_init(&d->fs);
	for (i = 0; i < NR_ROLES; i++)
		d->roles[i] = (struct role_proc){ .pid = -1, .ctl = -1 };
	d->frame_bytes = (size_t)cfg->width * cfg->height * 4;
	d->slot_bytes = (d->frame_bytes + (size_t)psz - 1) / (size_t)psz * (size_t)psz;
	if (cfg->camera) {
		if (demo_v4l2_negotiate(cfg, &d->cam, &d->out) < 0) {
			tool_complain(0, "FAILED: nothing was mounted");
			return 1;
		}
		d->frame_bytes = d->cam.sizeimage;
		d->slot_bytes = d->out.sizeimage > d->cam.sizeimage ? d->out.sizeimage :
								      d->cam.sizeimage;
		d->slot_bytes = (d->slot_bytes + (size_t)psz - 1) / (size_t)psz * (size_t)psz;
	}
	n = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(d->self) - 1)
		n = snprintf(d->self, sizeof(d->self), "umm-demo");
	d->self[n] = '\0';

	tool_catch_signals();
	atexit(demo_atexit);

	if (prepare_outdir(d) < 0)
		goto out;
	d->umm_ls = find_umm_ls();
	if (cfg->mount) {
		if (use_mount(d) < 0)
			goto out;
	} else {
		d->umm_fs = tool_find_umm_fs(cfg->umm_fs);
		if (!d->umm_fs || mount_temp(d) < 0)
			goto out;
	}
	if (make_ring(d) < 0 || run_pipeline(d) < 0)
		goto out;
	if (stop_roles(d, true) < 0)
		goto out;
	ok = 1;
out:
	if (!ok)
		d->failed = true;
	demo_cleanup(d);
	if (tool_signal)
		return tool_interrupted();
	if (d->failed) {
		tool_complain(0, "FAILED%s", d->fs_started || d->ring_dir[0] ? "; cleaned up" : "");
		return 1;
	}
	if (cfg->mount)
		tool_say("done; removed %s", d->ring_dir);
	else
		tool_say("done; unmounted %s and removed %s", d->fs.root, d->tmp);
	return 0;
}
