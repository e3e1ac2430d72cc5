/* SPDX-License-Identifier: MIT */
/*
 * sh's built-in commands, by file: main.c has the table and the process
 * commands; files.c the file commands, over <file.h>.  A command gets the
 * line's words (argv[0] is its name).
 */
#ifndef SH_H
#define SH_H

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
