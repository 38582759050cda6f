// SPDX-License-Identifier: MIT
/*
 * bench_report.c - what umm-bench prints and writes: the targets found, a
 * table row and a JSON entry for each scenario and target (median, min, max,
 * the ratio of medians to tmpfs), and the targets of issue 5 against what
 * was measured, met or missed. The JSON keys are documented in
 * umm-bench(1): only ever add keys.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench_i.h"

/* The ratio of @s's median on @id to that on tmpfs, or -1 without both. */
static double ratio_of(const struct scenario *s, enum target_id id)
{
	const struct result *r = &s->res[id], *base = &s->res[T_TMPFS];

	if (!r->have || !base->have || base->median <= 0)
		return -1;
	return r->median / base->median;
}

/* Print the rows of @s (one per available target) and its JSON entries. */
void bench_report_scenario(struct bench *b, struct scenario *s)
{
	char ratio[32];
	unsigned int i, id;
	double r;

	for (id = 0; id < NR_TARGETS; id++) {
		const struct result *res = &s->res[id];

		if (!b->t[id].avail)
			continue;
		if (!res->have) {
			printf("%-14s %-9s %12s %12s %12s  %-9s %s\n", s->def->name, b->t[id].name,
			       "-", "-", "-", s->def->unit, s->why[id][0] ? s->why[id] : "n/a");
		} else {
			r = ratio_of(s, id);
			if (r >= 0)
				snprintf(ratio, sizeof(ratio), "%.2f", r);
			else
				snprintf(ratio, sizeof(ratio), "-");
			printf("%-14s %-9s %12.2f %12.2f %12.2f  %-9s %s%s%s\n", s->def->name,
			       b->t[id].name, res->median, res->min, res->max, s->def->unit, ratio,
			       s->why[id][0] ? "  " : "", s->why[id]);
		}
		if (!b->json)
			continue;
		fprintf(b->json, "%s\n    {\"scenario\": ", b->nr_results++ ? "," : "");
		tool_json_str(b->json, s->def->name);
		fprintf(b->json, ", \"target\": ");
		tool_json_str(b->json, b->t[id].name);
		if (b->t[id].is_umm) {
			fprintf(b->json, ", \"transport\": ");
			tool_json_str(b->json, b->t[id].transport);
		}
		fprintf(b->json, ", \"unit\": ");
		tool_json_str(b->json, s->def->unit);
		fprintf(b->json, ", \"better\": \"%s\", \"size\": %zu, \"block\": %zu, \"ops\": %u",
			s->def->higher ? "higher" : "lower", s->size, s->block, s->iters);
		if (res->have) {
			fprintf(b->json, ", \"median\": %.6g, \"min\": %.6g, \"max\": %.6g",
				res->median, res->min, res->max);
			r = ratio_of(s, id);
			if (r >= 0)
				fprintf(b->json, ", \"ratio\": %.6g", r);
			else
				fprintf(b->json, ", \"ratio\": null");
		} else {
			fprintf(b->json, ", \"median\": null, \"min\": null, \"max\": null, "
					 "\"ratio\": null");
		}
		fprintf(b->json, ", \"samples\": [");
		for (i = 0; i < s->nsamples[id]; i++)
			fprintf(b->json, "%s%.6g", i ? ", " : "", s->samples[id][i]);
		fprintf(b->json, "], \"note\": ");
		tool_json_str(b->json, s->why[id]);
		fputc('}', b->json);
	}
}

/* A target of issue 5: a scenario's figure against a limit. */
struct goal {
	const char *scenario;
	enum target_id target;
	bool ratio; /* compare the ratio to tmpfs, else the median itself */
	bool at_least; /* >= limit, else <= limit */
	double limit;
};

static const struct goal goals[] = {
	{ "mapped-write", T_UMM, true, true, 0.97 },
	{ "mapped-read", T_UMM, true, true, 0.97 },
	{ "mapped-write", T_NOPT, true, true, 0.97 },
	{ "mapped-read", T_NOPT, true, true, 0.97 },
	{ "write-1M", T_UMM, true, true, 0.9 },
	{ "read-1M", T_UMM, true, true, 0.9 },
	{ "write-1M", T_NOPT, true, true, 0.5 },
	{ "read-1M", T_NOPT, true, true, 0.5 },
	{ "alloc-4K", T_UMM, true, false, 4 },
	{ "alloc-4K", T_NOPT, true, false, 4 },
	{ "alloc-1M", T_UMM, true, false, 1.5 },
	{ "alloc-1M", T_NOPT, true, false, 1.5 },
	{ "alloc-16M", T_UMM, true, false, 1.1 },
	{ "alloc-16M", T_NOPT, true, false, 1.1 },
	{ "alloc-64M", T_UMM, true, false, 1.1 },
	{ "alloc-64M", T_NOPT, true, false, 1.1 },
	{ "alloc-256M", T_UMM, true, false, 1.1 },
	{ "alloc-256M", T_NOPT, true, false, 1.1 },
	{ "stat", T_UMM, true, false, 2 },
	{ "stat", T_NOPT, true, false, 2 },
	{ "getxattr", T_UMM, true, false, 2 },
	{ "getxattr", T_NOPT, true, false, 2 },
	{ "list", T_UMM, true, false, 3 },
	{ "list", T_NOPT, true, false, 3 },
	{ "export", T_UMM, false, false, 30 },
	{ "export", T_NOPT, false, false, 30 },
	{ "daemon-rss", T_UMM, false, false, 1024 },
	{ "daemon-rss", T_NOPT, false, false, 1024 },
};

/*
 * The "targets" section, on stdout and in the JSON file: each goal with what
 * was measured, met or missed.
 */
void bench_report_goals(struct bench *b, struct scenario *list, unsigned int n)
{
	const struct scenario *s;
	const char *verdict;
	unsigned int i, j, k = 0;
	double v;
	char want[32];

	fprintf(b->json, "\n  ],\n  \"targets\": [");
	printf("\ntargets (issue 5; a report, never a test)\n");
	printf("%-14s %-9s %-10s %12s  %s\n", "scenario", "target", "wanted", "measured", "");
	for (i = 0; i < sizeof(goals) / sizeof(goals[0]); i++) {
		const struct goal *g = &goals[i];

		for (s = NULL, j = 0; j < n; j++)
			if (!strcmp(list[j].def->name, g->scenario))
				s = &list[j];
		if (!s || !b->t[g->target].avail)
			continue;
		v = g->ratio ? ratio_of(s, g->target) :
			       (s->res[g->target].have ? s->res[g->target].median : -1);
		verdict = v < 0						? "unmeasured" :
			  (g->at_least ? v >= g->limit : v <= g->limit) ? "met" :
									  "missed";
		snprintf(want, sizeof(want), "%s%g%s", g->at_least ? ">=" : "<=", g->limit,
			 g->ratio ? "x" : "");
		if (v < 0)
			printf("%-14s %-9s %-10s %12s  %s\n", s->def->name, b->t[g->target].name,
			       want, "-", verdict);
		else
			printf("%-14s %-9s %-10s %12.3f  %s %s\n", s->def->name,
			       b->t[g->target].name, want, v, g->ratio ? "x" : s->def->unit,
			       verdict);
		if (!b->json)
			continue;
		fprintf(b->json, "%s\n    {\"scenario\": ", k++ ? "," : "");
		tool_json_str(b->json, s->def->name);
		fprintf(b->json, ", \"target\": ");
		tool_json_str(b->json, b->t[g->target].name);
		fprintf(b->json,
			", \"measure\": \"%s\", \"unit\": ", g->ratio ? "ratio" : "median");
		tool_json_str(b->json, g->ratio ? "x" : s->def->unit);
		fprintf(b->json, ", \"cmp\": \"%s\", \"limit\": %g, \"measured\": ",
			g->at_least ? ">=" : "<=", g->limit);
		if (v < 0)
			fprintf(b->json, "null");
		else
			fprintf(b->json, "%.6g", v);
		fprintf(b->json, ", \"verdict\": \"%s\"}", verdict);
	}
}

/**
 * bench_report_start() - the header of the run, on stdout and in the JSON file.
 * @b: the benchmark, its targets set up and b->json open.
 *
 * Then the JSON file is in its "results" array, and the table has its header.
 */
void bench_report_start(struct bench *b)
{
	const struct config *cfg = b->cfg;
	unsigned int id;

	printf("umm-bench %s: mode %s, %u repetitions, targets interleaved\n", UMM_VERSION,
	       bench_mode_names[cfg->mode], cfg->reps);
	fprintf(b->json, "{\n  \"tool\": \"umm-bench\",\n  \"version\": ");
	tool_json_str(b->json, UMM_VERSION);
	fprintf(b->json, ",\n  \"mode\": \"%s\",\n  \"repetitions\": %u,\n  \"available\": [",
		bench_mode_names[cfg->mode], cfg->reps);
	for (id = 0; id < NR_TARGETS; id++) {
		printf("  %-9s %-4s %s\n", b->t[id].name, b->t[id].avail ? "yes" : "no",
		       b->t[id].note);
		fprintf(b->json,
			"%s\n    {\"target\": \"%s\", \"available\": %s, \"note\": ", id ? "," : "",
			b->t[id].name, b->t[id].avail ? "true" : "false");
		tool_json_str(b->json, b->t[id].note);
		if (b->t[id].is_umm && b->t[id].avail) {
			fprintf(b->json, ", \"transport\": ");
			tool_json_str(b->json, b->t[id].transport);
		}
		fputc('}', b->json);
	}
	fprintf(b->json, "\n  ],\n  \"results\": [");
	printf("\n%-14s %-9s %12s %12s %12s  %-9s %s\n", "scenario", "target", "median", "min",
	       "max", "unit", "vs tmpfs");
}

/* The end of the JSON file, after the goals: how long the run took. */
void bench_report_end(struct bench *b, double seconds)
{
	fprintf(b->json, "\n  ],\n  \"seconds\": %.3f\n}\n", seconds);
}
