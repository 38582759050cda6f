/* SPDX-License-Identifier: MIT */
/*
 * tool_i.h - what the tools that mount umm-fs themselves (umm-demo,
 * umm-bench) share: finding programs, and asking whether a path is mounted.
 */
#ifndef UMM_TOOL_I_H
#define UMM_TOOL_I_H

#include <stdbool.h>

bool tool_is_executable(const char *path);
char *tool_path_search(const char *name);
char *tool_find(const char *name, const char *rel);
int tool_is_mounted(const char *path);

#endif /* UMM_TOOL_I_H */
