/* SPDX-License-Identifier: MIT */
/*
 * The one error enum.  Every system call, every protocol reply and every
 * kernel function that can fail on untrusted input answers with one of
 * these (negated values, 0 for success).  Broken kernel invariants are not
 * errors: they panic.
 */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

#define FERRY_ERRORS(X)                                              \
	X(ERR_INVAL, 1, "invalid argument")                           \
	X(ERR_NOMEM, 2, "out of memory")                              \
	X(ERR_FAULT, 3, "bad user address")                           \
	X(ERR_PERM, 4, "not permitted")                               \
	X(ERR_NOENT, 5, "no such object")                             \
	X(ERR_EXIST, 6, "already exists")                             \
	X(ERR_BADHANDLE, 7, "stale or invalid handle")                \
	X(ERR_FULL, 8, "queue full")                                  \
	X(ERR_TIMEOUT, 9, "timed out")                                \
	X(ERR_DEAD, 10, "peer died")                                  \
	X(ERR_IO, 11, "I/O error")                                    \
	X(ERR_BUSY, 12, "busy")                                       \
	X(ERR_NOSYS, 13, "no such call")                              \
	X(ERR_RANGE, 14, "out of range")                              \
	X(ERR_NOEXEC, 15, "bad executable")                           \
	X(ERR_AGAIN, 16, "try again")                                 \
	X(ERR_NOSPC, 17, "no space left")                             \
	X(ERR_NOTEMPTY, 18, "directory not empty")                    \
	X(ERR_ROFS, 19, "read-only file system")                      \
	X(ERR_TXTBSY, 20, "the file runs as a program")              \
	X(ERR_DMAFAULT, 21, "device DMA fault")

enum ferry_err {
	ERR_OK = 0,
#define FERRY_ERR_ENUM(name, num, text) name = -(num),
	FERRY_ERRORS(FERRY_ERR_ENUM)
#undef FERRY_ERR_ENUM
};

/* Human-readable text for an error code; never NULL. */
static inline const char *err_str(long err)
{
	switch (err) {
	case ERR_OK:
		return "ok";
#define FERRY_ERR_CASE(name, num, text) \
	case name:                      \
		return text;
		FERRY_ERRORS(FERRY_ERR_CASE)
#undef FERRY_ERR_CASE
	}
	return "unknown error";
}

#endif
