/* SPDX-License-Identifier: MIT */
/*
 * sh's built-in commands, by file: main.c has the table and the process
 * commands; files.c the file commands, over <file.h>; run.c runs programs
 * (boot modules, and files by path or search path).  A command gets the
 * line's words (argv[0] is its name).
 */
#ifndef SH_H
#define SH_H

#include <stdbool.h>

/* run.c: the program `name` with the whole line as its arguments. */
void sh_run(const char *name, const char *line, bool background);
/* Reports the background programs that ended (before a prompt). */
void sh_reap_background(void);
void cmd_path(int argc, char **argv);

void cmd_ls(int argc, char **argv);
void cmd_cat(int argc, char **argv);
void cmd_write(int argc, char **argv);	/* write and append */
void cmd_mmwrite(int argc, char **argv);
void cmd_mkdir(int argc, char **argv);
void cmd_rm(int argc, char **argv);
void cmd_mv(int argc, char **argv);
void cmd_sum(int argc, char **argv);
void cmd_peek(int argc, char **argv);
void cmd_mode(int argc, char **argv);
void cmd_df(int argc, char **argv);

#endif
