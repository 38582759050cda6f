// SPDX-License-Identifier: MIT
/*
 * umm-bench.c - umm side by side with tmpfs, memfd and the raw heaps: the
 * options and main().
 *
 * One run mounts its own umm three times (with FUSE passthrough, with -o
 * nopassthrough, and with passthrough over /dev/fuse: -o nouring) and a tmpfs, all under one temp dir (bench_targets.c), and
 * runs every scenario (bench_scenarios.c) against every target that exists
 * on this machine. Within each repetition the targets take turns (A B C D,
 * A B C D, ...: bench_harness.c), so that a drift of the machine (frequency,
 * page cache, another load) touches all of them alike. The table and the
 * JSON file (bench_report.c) give the median, min and max of the
 * repetitions and the ratio of medians to tmpfs in the same run; a last
 * section compares the ratios with the targets of issue 5. Nothing here
 * asserts a timing: the exit status says only whether the benchmark ran.
 * A guard process (bench_guard.c) cleans up after a benchmark that died.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "bench_i.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umm-bench [--quick | --full] [-r REPS] [--json FILE] [--only SCENARIO,...]\n"
		"                 [--umm-fs PATH]\n"
		"\n"
		"Benchmarks umm side by side with tmpfs, memfd and, where present, the raw\n"
		"DMA heap and udmabuf, in one run: it mounts its own umm (with passthrough, with\n"
		"-o nopassthrough, and with passthrough over /dev/fuse: -o nouring, to set\n"
		"io_uring beside it) and a tmpfs under a temp dir, runs each scenario on\n"
		"every target, the targets interleaved in each repetition, and prints the\n"
		"median, min and max and the ratio of medians to tmpfs, then the targets of\n"
		"issue 5, met or missed. Everything is also written as JSON. Run it as root.\n"
		"\n"
		"  -q, --quick        small sizes, 2 repetitions: a few seconds\n"
		"  -f, --full         every size of issue 5 (256 MiB, 10,000 entries, 100,000\n"
		"                     buffers), 7 repetitions\n"
		"  -r, --reps N       repetitions (default 2 quick, 5 default, 7 full; max 64)\n"
		"  -j, --json FILE    the JSON file (default ./umm-bench.json)\n"
		"  -o, --only LIST    only these scenarios, comma-separated; a prefix before\n"
		"                     '-' selects a family (alloc, concurrent, read, write)\n"
		"      --umm-fs PATH  the umm-fs to mount (default: $UMM_FS, else ../fs/umm-fs\n"
		"                     beside umm-bench, else " UMM_SBINDIR "/umm-fs, else $PATH)\n"
		"  -h, --help         print this help\n"
		"  -V, --version      print the version\n"
		"\n"
		"Scenarios: alloc-SIZE, mapped-write, mapped-read, write-4K, read-4K,\n"
		"write-1M, read-1M, stat, stat-holes, getxattr, list, export, concurrent-N,\n"
		"daemon-rss.\n"
		"Exit status: 0 when the benchmark ran (whatever the figures), 1 on a failure,\n"
		"128+N when ended by signal N. Mounts and temp files are removed in every case.\n");
}

/**
 * parse_args() - fill @cfg from the command line.
 * @argc, @argv: as given to main().
 * @cfg:         defaults in, options out.
 *
 * Return: 0 to go on, 1 when done (--help, --version), -1 on a usage error.
 */
static int parse_args(int argc, char **argv, struct config *cfg)
{
	enum { OPT_UMM_FS = 256 };
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'f' },
		{ "reps", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "umm-fs", required_argument, NULL, OPT_UMM_FS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "qfr:j:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			cfg->mode = MODE_QUICK;
			break;
		case 'f':
			cfg->mode = MODE_FULL;
			break;
		case 'r':
			/* Without a leading zero, as -r has always been. */
			if (*optarg == '0' || tool_parse_uint(optarg, 1, 64, &cfg->reps) < 0) {
				tool_complain(0, "bad value '%s' for -r: 1 to 64 repetitions",
					      optarg);
				return -1;
			}
			break;
		case 'j':
			cfg->json = optarg;
			break;
		case 'o':
			cfg->only = optarg;
			break;
		case OPT_UMM_FS:
			cfg->umm_fs = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			tool_version();
			return 1;
		default:
			tool_bad_usage(NULL);
			return -1;
		}
	}
	if (optind < argc) {
		tool_bad_usage(argv[optind]);
		return -1;
	}
	if (!*cfg->json) {
		tool_complain(0, "an empty path for --json");
		return -1;
	}
	if (!cfg->reps)
		cfg->reps = bench_mode_reps(cfg->mode);
	return 0;
}

int main(int argc, char **argv)
{
	/* Static: the atexit() cleanup may run after main() returns. */
	static struct config cfg = { .mode = MODE_DEFAULT, .json = "umm-bench.json" };
	int ret;

	tool_init("umm-bench");
	ret = parse_args(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? 0 : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return bench_guard_main(&cfg);
}
