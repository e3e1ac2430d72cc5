/* SPDX-License-Identifier: MIT */
/*
 * A small line editor on the raw serial console: echo, Backspace, Ctrl-U
 * (kill the line), Ctrl-C (drop the line), Ctrl-R (draw prompt and line
 * again; the kernel sends it after the debug console) and a history of
 * the last READLINE_HISTORY lines on the Up and Down arrows.  Editing
 * happens at the end of the line only; other keys and escape sequences
 * are ignored.
 */
#ifndef FERRY_READLINE_H
#define FERRY_READLINE_H

#include <stddef.h>

#define READLINE_HISTORY	16
#define READLINE_MAX		256	/* longest line kept in the history */

/*
 * Prints prompt, then reads one line into buf (NUL-terminated, without the
 * newline; at most size - 1 bytes, extra keys are refused).
 * => returns the line's length, or a negative enum ferry_err when the
 *    console cannot be read.
 */
long readline(const char *prompt, char *buf, size_t size);

#endif
