// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin for tests/vm/profile.sh: counts the guest instructions
 * executed per translated block, in phases that the guest delimits by
 * executing the block at toggle=ADDR (a syscall entry that nothing else
 * in the guest calls: the first execution starts a phase, the next ends
 * it, and so on).  At exit it writes "<phase> <block address hex>
 * <instructions in block> <executions>" per block and phase to out=FILE.
 *
 * Only the few entry points of QEMU's plugin C API that it uses are
 * declared here (QEMU packages ship no qemu-plugin.h); their signatures
 * have been stable since API version 1, and the plugin asks for version 2,
 * which QEMU 8.2 to 10.x accept.  Under -accel tcg,thread=single the
 * callbacks never run concurrently.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct {
	const char *target_name;
	struct {
		int min, cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus, max_vcpus;
		} system;
	};
} qemu_info_t;
struct qemu_plugin_tb;
typedef void (*tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_cb_t)(unsigned int vcpu, void *udata);
typedef void (*udata_cb_t)(qemu_plugin_id_t id, void *udata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb_t cb);
/* flags: QEMU_PLUGIN_CB_NO_REGS (0). */
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, vcpu_udata_cb_t cb,
					  int flags, void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb_t cb, void *udata);

EXPORT int qemu_plugin_version = 2;

#define MAX_PHASES 32

struct block {
	uint64_t vaddr;
	uint32_t insns;
	uint64_t runs[MAX_PHASES];
};

static struct block **blocks;
static size_t nblocks, cap;
static uint64_t toggle;
static const char *out;
static bool counting;
static int phase;

static void block_run(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	if (counting && phase < MAX_PHASES)
		b->runs[phase]++;
}

static void toggle_run(unsigned int vcpu, void *udata)
{
	if (counting)
		phase++;
	counting = !counting;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = calloc(1, sizeof(*b));

	if (!b)
		return;
	if (nblocks == cap) {
		size_t ncap = cap ? cap * 2 : 65536;
		struct block **n = realloc(blocks, ncap * sizeof(*n));

		if (!n) {
			free(b);
			return;
		}
		blocks = n;
		cap = ncap;
	}
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = qemu_plugin_tb_n_insns(tb);
	blocks[nblocks++] = b;
	/* Before block_run: the toggling block itself counts in no phase. */
	if (b->vaddr == toggle)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, toggle_run, 0, NULL);
	qemu_plugin_register_vcpu_tb_exec_cb(tb, block_run, 0, b);
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	FILE *f = fopen(out, "w");
	size_t i;
	int p;

	if (!f) {
		perror(out);
		return;
	}
	fprintf(f, "# phases %d\n", phase);
	for (i = 0; i < nblocks; i++)
		for (p = 0; p < MAX_PHASES; p++)
			if (blocks[i]->runs[p])
				fprintf(f, "%d %llx %u %llu\n", p,
					(unsigned long long)blocks[i]->vaddr, blocks[i]->insns,
					(unsigned long long)blocks[i]->runs[p]);
	fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
			       char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "toggle=", 7))
			toggle = strtoull(argv[i] + 7, NULL, 16);
		else if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
	}
	if (!toggle || !out) {
		fprintf(stderr, "insn_plugin: needs toggle=ADDR and out=FILE\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
