/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the profiling programs (vfio_prof, vfio_mig prof) share with
 * tests/vm/profile.sh: the phase marker its QEMU plugin counts by, the
 * quieting of kmemleak's scan, and the module symbols it names addresses
 * with.
 */
#ifndef PROF_H
#define PROF_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

/*
 * A phase boundary: a getitimer() call, which nothing else in the guest
 * makes; the plugin (tests/vm/profile/insn_plugin.c) starts a phase at
 * one and ends it at the next.
 */
static inline void prof_mark(void)
{
	struct itimerval it;

	getitimer(ITIMER_REAL, &it);
}

/* kmemleak's periodic scan would land in some phases and not others. */
static inline void prof_quiet_kmemleak(void)
{
	if (system("echo scan=off > /sys/kernel/debug/kmemleak 2>/dev/null"))
		printf("# kmemleak scan left on\n");
}

/*
 * Prints the loaded modules' symbols (/proc/kallsyms lines with a
 * [module]) as "KSYM ..." lines; 0, or nonzero if that failed.
 */
static inline int prof_print_ksyms(void)
{
	fflush(stdout);
	return system("grep '\\[' /proc/kallsyms | sed 's/^/KSYM /'");
}

#endif
