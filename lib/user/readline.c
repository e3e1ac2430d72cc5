// SPDX-License-Identifier: MIT
/*
 * Line editor.  Keys come from sys_console_read in bursts (a pasted line,
 * an escape sequence, "\r\n"), so they are read through a buffer that
 * survives between calls: whatever follows Enter is the start of the next
 * line.  The history is a ring of the last READLINE_HISTORY lines; browsing
 * it replaces the line being edited, and Down past the newest entry gives
 * an empty line.
 */
#include <ferry/sys.h>
#include <readline.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define KEY_CTRL_C	0x03
#define KEY_BS		0x08
#define KEY_CTRL_U	0x15
#define KEY_ESC		0x1b
#define KEY_DEL		0x7f

enum esc_state { ESC_NONE, ESC_SEEN, ESC_CSI };

static struct {
	char buf[64];
	long pos, len;
	bool after_cr;		/* swallow the '\n' of a "\r\n" pair */
} in;

static struct {
	char line[READLINE_HISTORY][READLINE_MAX];
	int count;		/* lines ever added; the ring holds the last few */
} hist;

struct rl_edit {
	const char *prompt;
	char *buf;
	size_t size, len;
	int hist_pos;		/* hist.count while editing a new line */
	enum esc_state esc;
};

/* => returns the next key, or a negative enum ferry_err. */
static int rl_getc(void)
{
	if (in.pos == in.len) {
		long n = sys_console_read(in.buf, sizeof(in.buf));

		if (n < 0)
			return (int)n;
		in.pos = 0;
		in.len = n;
	}
	return (unsigned char)in.buf[in.pos++];
}

/* Return to the start of the line, clear it, and draw prompt and text anew. */
static void rl_redraw(struct rl_edit *e)
{
	printf("\r\x1b[K%s%.*s", e->prompt, (int)e->len, e->buf);
	stdout_flush();
}

static void rl_set_line(struct rl_edit *e, const char *text)
{
	e->len = strlcpy(e->buf, text, e->size);
	if (e->len >= e->size)
		e->len = e->size - 1;
	rl_redraw(e);
}

static void rl_history_add(const char *line)
{
	int last = hist.count - 1;

	if (!*line || (last >= 0 && !strcmp(hist.line[last % READLINE_HISTORY], line)))
		return;
	strlcpy(hist.line[hist.count % READLINE_HISTORY], line, READLINE_MAX);
	hist.count++;
}

/* dir -1 is Up (older), +1 is Down (newer). */
static void rl_history_move(struct rl_edit *e, int dir)
{
	int oldest = hist.count > READLINE_HISTORY ? hist.count - READLINE_HISTORY : 0;
	int pos = e->hist_pos + dir;

	if (pos < oldest || pos > hist.count)
		return;
	e->hist_pos = pos;
	rl_set_line(e, pos == hist.count ? "" : hist.line[pos % READLINE_HISTORY]);
}

/* Arrow keys arrive as ESC [ A or ESC O A (and modifiers as ESC [ 1 ; 5 A). */
static void rl_escape(struct rl_edit *e, int c)
{
	if (e->esc == ESC_SEEN) {
		e->esc = (c == '[' || c == 'O') ? ESC_CSI : ESC_NONE;
		return;
	}
	if ((c >= '0' && c <= '9') || c == ';')
		return;
	e->esc = ESC_NONE;
	if (c == 'A')
		rl_history_move(e, -1);
	else if (c == 'B')
		rl_history_move(e, 1);
}

static void rl_insert(struct rl_edit *e, int c)
{
	char ch = (char)c;

	if (e->len + 1 >= e->size)
		return;
	e->buf[e->len++] = ch;
	putchar(ch);
	stdout_flush();
}

/* => returns true when the key ends the line. */
static bool rl_key(struct rl_edit *e, int c)
{
	if (e->esc != ESC_NONE) {
		rl_escape(e, c);
		return false;
	}
	switch (c) {
	case '\r':
	case '\n':
		return true;
	case KEY_BS:
	case KEY_DEL:
		if (e->len > 0) {
			e->len--;
			printf("\b \b");
			stdout_flush();
		}
		break;
	case KEY_CTRL_U:
		rl_set_line(e, "");
		break;
	case CONSOLE_KEY_REPRINT:	/* typed, or sent after the debug console */
		rl_redraw(e);
		break;
	case KEY_CTRL_C:
		printf("^C");
		e->len = 0;
		return true;
	case KEY_ESC:
		e->esc = ESC_SEEN;
		break;
	default:
		if (c >= ' ' && c < KEY_DEL)
			rl_insert(e, c);
		break;
	}
	return false;
}

long readline(const char *prompt, char *buf, size_t size)
{
	struct rl_edit e = {
		.prompt = prompt, .buf = buf, .size = size, .hist_pos = hist.count,
	};
	int c;

	if (size == 0)
		return ERR_INVAL;
	printf("%s", prompt);
	stdout_flush();
	for (;;) {
		c = rl_getc();
		if (c < 0)
			return c;
		if (c == '\n' && in.after_cr) {
			in.after_cr = false;
			continue;
		}
		in.after_cr = c == '\r';
		if (rl_key(&e, c))
			break;
	}
	e.buf[e.len] = '\0';
	putchar('\n');
	rl_history_add(e.buf);
	return (long)e.len;
}
