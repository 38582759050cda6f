// SPDX-License-Identifier: MIT
/*
 * bench_harness.c - how umm-bench runs its scenarios (bench_scenarios.c):
 * each set up on every target first, then its repetitions with the targets
 * taking turns (A B C D, A B C D, ...), so that a drift of the machine
 * (frequency, page cache, another load) touches all of them alike; the
 * median, min and max of the samples; a guard that turns a SIGBUS on a
 * mapping into a failed sample; and bench_main(), the whole run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_i.h"

struct bench the_bench;

const char *const bench_mode_names[NR_MODES] = { "quick", "default", "full" };

/* Armed while a scenario runs: a SIGBUS then ends only that (see run_guarded()). */
static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_armed;

/* ---- statistics ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of @n samples (sorted in place). */
static struct result summarize(double *v, unsigned int n)
{
	struct result r = { .have = n > 0 };

	if (!n)
		return r;
	if (n > 1) /* never qsort(NULL, 0, ...) */
		qsort(v, n, sizeof(*v), cmp_double);
	r.min = v[0];
	r.max = v[n - 1];
	r.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return r;
}

/* ---- one call, guarded --------------------------------------------------- */

static void on_fault(int sig)
{
	if (!fault_armed) {
		signal(sig, SIG_DFL); /* the fault comes again, and kills us */
		return;
	}
	fault_armed = 0;
	siglongjmp(fault_env, 1);
}

/*
 * The setup (@setup) or one sample of @s on @id, under a guard: a SIGBUS
 * on a mapping (the file behind it is shorter, or the daemon that serves it
 * has died) fails it with -EFAULT, instead of killing us with everything
 * still mounted. What the interrupted call held (a mapping, an fd) leaks:
 * the cleanup (stop_umm() in bench_targets.c) detaches a mount that stays
 * busy by it.
 */
static int run_guarded(struct bench *b, struct scenario *s, enum target_id id, double *value,
		       bool setup)
{
	const struct scen_def *def = s->def;
	int ret;

	if (sigsetjmp(fault_env, 1))
		return -EFAULT;
	fault_armed = 1;
	if (setup)
		ret = def->setup ? def->setup(b, s, id) : 0;
	else
		ret = def->run(b, s, id, value);
	fault_armed = 0;
	return ret;
}

/* The note of a target whose setup (@what "setup: ") or sample failed with @err. */
static void set_why(struct scenario *s, enum target_id id, const char *what, int err)
{
	snprintf(s->why[id], sizeof(s->why[id]), "%s%s", what,
		 err == -EFAULT ? "SIGBUS on a mapping" : strerror(-err));
}

/* ---- one scenario -------------------------------------------------------- */

/* Set @s up on every target it runs on; the others get their note. */
static void setup_all(struct bench *b, struct scenario *s, unsigned int reps)
{
	unsigned int id;
	int ret;

	for (id = 0; id < NR_TARGETS; id++) {
		s->m[id] = MBUF_NONE;
		if (!b->t[id].avail)
			continue;
		if (b->failed) {
			snprintf(s->why[id], sizeof(s->why[id]), "not run: the run stopped");
			continue;
		}
		if (!(s->def->targets & TG(id))) {
			snprintf(s->why[id], sizeof(s->why[id]), "n/a");
			continue;
		}
		s->samples[id] = calloc(reps, sizeof(double));
		ret = s->samples[id] ? run_guarded(b, s, id, NULL, true) : -ENOMEM;
		if (ret < 0) {
			set_why(s, id, "setup: ", ret);
			free(s->samples[id]);
			s->samples[id] = NULL;
			bench_umm_lost(b, id, ret);
		}
	}
}

/* The figures of @s from its samples, and what it still holds released. */
static void finish(struct bench *b, struct scenario *s)
{
	const struct scen_def *def = s->def;
	unsigned int id;

	for (id = 0; id < NR_TARGETS; id++) {
		double sorted[64];
		unsigned int k = s->nsamples[id] < 64 ? s->nsamples[id] : 64;

		memcpy(sorted, s->samples[id] ? s->samples[id] : sorted, k * sizeof(double));
		/* A failed sample voids the figure; a note of a once-only one does not. */
		if (s->samples[id] && (def->once || !s->why[id][0]))
			s->res[id] = summarize(sorted, k);
		if (b->failed && s->samples[id] && !k && !s->why[id][0])
			snprintf(s->why[id], sizeof(s->why[id]), "not run: the run stopped");
		if (def->teardown)
			def->teardown(b, s, id);
	}
}

/**
 * run_scenario() - all repetitions of @s, the targets interleaved.
 * @b: the benchmark.
 * @s: the scenario.
 *
 * Sets @s up on every target first, so that setup never falls between two
 * targets' samples; a target whose setup or sample fails gets no figure and
 * a note, the others go on. A scenario with @fresh is set up again before
 * each repetition (bandwidth: how fast one buffer's memory is depends on
 * where it landed, in a VM on how the host backs those pages; runs here
 * differ by up to 2x between two buffers of one target, so one buffer for
 * all repetitions would measure its luck).
 */
static void run_scenario(struct bench *b, struct scenario *s)
{
	const struct scen_def *def = s->def;
	unsigned int reps = def->once ? 1 : b->cfg->reps, rep, id;
	double v;
	int ret;

	setup_all(b, s, reps);
	for (rep = 0; rep < reps && !tool_signal && !b->failed; rep++) {
		for (id = 0; id < NR_TARGETS && !tool_signal && !b->failed; id++) {
			if (!s->samples[id] || s->why[id][0])
				continue;
			v = 0;
			ret = 0;
			if (rep && def->fresh) {
				if (def->teardown)
					def->teardown(b, s, id);
				ret = run_guarded(b, s, id, NULL, true);
			}
			if (ret == 0)
				ret = run_guarded(b, s, id, &v, false);
			if (ret < 0) {
				set_why(s, id, "", ret);
				bench_umm_lost(b, id, ret);
				continue;
			}
			s->samples[id][s->nsamples[id]++] = v;
		}
		bench_umm_lost(b, NR_TARGETS, 0);
	}
	finish(b, s);
}

/* ---- the run ------------------------------------------------------------- */

static void bench_atexit(void)
{
	bench_cleanup(&the_bench);
}

/**
 * bench_main() - mount, run every scenario, report, clean up.
 * @cfg: the options; the_bench has its umm-fs and temp dir already.
 *
 * Return: the exit status: 0, 1 on failure, 128 + N after signal N.
 */
int bench_main(const struct config *cfg)
{
	struct bench *b = &the_bench;
	struct sigaction fault = { .sa_handler = on_fault };
	struct scenario *list = NULL;
	unsigned int n = 0, i, id;
	int ok = 0;
	uint64_t t0 = tool_now_ns();

	b->cfg = cfg;
	tool_catch_signals();
	sigemptyset(&fault.sa_mask);
	sigaction(SIGBUS, &fault, NULL);
	atexit(bench_atexit);

	if (bench_setup_targets(b) < 0)
		goto out;
	n = bench_make_scenarios(cfg, &list);
	if (!n) {
		tool_complain(0, "no scenario matches --only %s", cfg->only ? cfg->only : "");
		goto out;
	}
	b->json = fopen(cfg->json, "we");
	if (!b->json) {
		tool_complain(errno, "%s", cfg->json);
		goto out;
	}
	bench_report_start(b);
	for (i = 0; i < n && !tool_signal && !b->failed; i++) {
		run_scenario(b, &list[i]);
		bench_report_scenario(b, &list[i]);
		fflush(stdout);
	}
	if (tool_signal || b->failed)
		goto out;
	bench_report_goals(b, list, n);
	bench_report_end(b, (double)(tool_now_ns() - t0) / 1e9);
	ok = 1;
out:
	if (b->json && fclose(b->json) != 0) {
		tool_complain(errno, "%s", cfg->json);
		ok = 0;
	}
	b->json = NULL;
	for (i = 0; i < n; i++)
		for (id = 0; id < NR_TARGETS; id++)
			free(list[i].samples[id]);
	free(list);
	bench_cleanup(b);
	if (tool_signal)
		return tool_interrupted();
	if (b->failed)
		tool_complain(0, "a umm-fs was lost: the run is incomplete; cleaned up");
	if (!ok)
		return 1;
	printf("\nJSON written to %s; %.1f s; unmounted and removed %s\n", cfg->json,
	       (double)(tool_now_ns() - t0) / 1e9, b->tmp);
	return 0;
}
