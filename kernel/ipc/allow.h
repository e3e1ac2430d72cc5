/* SPDX-License-Identifier: MIT */
/*
 * Allowances: kernel-stamped, revocable statements that one process (the
 * creator) lets another (the grantee) have a driver touch some ranges of
 * something the creator may use itself.  fs makes one for swapd naming
 * the disk sectors of a swap file; ata, asked by swapd for sectors of the
 * file system's partition, reads it by id and serves only those sectors
 * (user/ata/access.c).  The kernel knows nothing of disks: it stamps who
 * said it, keeps it, and shows it to whoever must check it.
 *
 *   FREE ──create (the `allow` right)──> LIVE ──revoke (the creator's
 *                                          │     program), or the grantee
 *                                          │     dies──> FREE (gen bumped)
 *                                          ├── the creator dies: still LIVE
 *                                          └── the grantee dies while the
 *                                              swap area it names waits for
 *                                              a successor──> SUSPENDED
 *   SUSPENDED ──revoke, or the area taken over or let go──> FREE
 *
 * The creator is recorded as its pid and its program's name.  Its death
 * ends nothing: the grantee keeps working (swapd pages on while fs
 * restarts), and the restarted creator, the same program with the same
 * `allow` right, finds its allowances (ALLOW_LIST) and may revoke them.
 * The grantee's death ends it at once: a restarted grantee asks again.
 * The ranges never change while it is LIVE, and ids are index +
 * generation, so a reader may keep what it read for as long as the id
 * still answers.
 *
 * SUSPENDED is for swap files: one that names the swap area its ranges
 * hold (ai_area, the mkswap UUID) outlives its grantee (swapd) while the
 * kernel keeps that area's pages for a restarted provider (swap.h,
 * ORPHANED).  It is not live (ALLOW_LIVE and ALLOW_INFO say so, and ata
 * serves nothing by it), but its creator still lists it (ALLOW_SUSPENDED
 * in ai_flags): a restarted fs learns from it that the file holds pages
 * and refuses to let it be written, until a successor takes the area over
 * (and is given an allowance of its own) or the area is let go.  Checked
 * lazily (create, list, a process's death): a SUSPENDED one that no
 * longer qualifies ends then.
 *
 * Who may read one: its grantee, its creator's program (with `allow`),
 * and drivers (the `dma` right), who are the ones that must check it.
 * Concurrency: called with the kernel lock held, like the grant table.
 */
#ifndef ALLOW_H
#define ALLOW_H

#include <ferry/abi.h>
#include <stdint.h>

#define ALLOW_MAX	8	/* live allowances in the system */

struct proc;

void allow_init(void);
/* => id, or ERR_PERM (no `allow` right) / ERR_INVAL / ERR_NOENT (no such
 *    grantee) / ERR_BUSY (table full). */
long allow_create(struct proc *p, const struct allow_info *in);
/* Fills *out (header, and up to `room` ranges; ai_nranges = how many
 * there are).  => 0, ERR_BADHANDLE (not live), ERR_PERM (not a reader). */
long allow_info(struct proc *p, uint64_t id, struct allow_info *out, uint32_t room);
/* => 0, ERR_BADHANDLE, ERR_PERM. */
long allow_revoke(struct proc *p, uint64_t id);
/* Is it live (and may p read it)?  => 0, ERR_BADHANDLE, ERR_PERM: a
 * reader's check that what it read earlier still holds, without a copy. */
long allow_live(struct proc *p, uint64_t id);
/* The index-th live allowance p's program created: => its id (out filled
 * as allow_info), ERR_NOENT past the end, ERR_PERM without `allow`. */
long allow_list(struct proc *p, uint64_t index, struct allow_info *out, uint32_t room);
/* p is dying (after swap_release_proc): the allowances it is the grantee
 * of end, or are suspended. */
void allow_release_proc(struct proc *p);
/* For the console: the index-th live or suspended one (ai_flags), NULL past the end. */
const struct allow_info *allow_view(int index, uint64_t *id);

#endif
