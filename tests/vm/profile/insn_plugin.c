// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin for tests/vm/profile.sh: counts the guest instructions
 * executed per translated block, in phases that the guest delimits by
 * executing the block at toggle=ADDR (a syscall entry that nothing else
 * in the guest calls: the first execution starts a phase, the next ends
 * it, and so on).  At exit it writes "<phase> <block address hex>
 * <instructions in block> <executions> <entries across a page> <indirect
 * entries> <jump cache misses> <rep accesses> <TLB misses>" per block and
 * phase to out=FILE, after a "# translations <phase> <blocks>" line per
 * phase (the blocks translated while it ran: code run for the first
 * time, or again after its translation was dropped, as when the guest
 * writes to a code page) and a "# flushes <phase> <n>" line per phase
 * (the instructions run that flush TLB entries).
 *
 * An indirect entry is a run of the block whose predecessor (the block
 * run just before it) ended in a return or an indirect call or jump; an
 * entry across a page is any other run whose predecessor started on
 * another guest page.  TCG chains a jump
 * or fall-through from one block to the next only when both start on the
 * same page (translator_use_goto_tb()), so both kinds go through a lookup
 * of the next block; the first kind is the one that code layout decides.
 * The seventh column counts the lookups that miss the vCPU's jump cache,
 * as the plugin models it: QEMU's 4096 entries, direct-mapped by
 * tb_jmp_cache_hash_func() (accel/tcg/tb-hash.h), where a miss goes on to
 * the global hash table.  A move to CR3 or CR4, or invpcid, empties the
 * model, as a full TLB flush empties the cache; invlpg's flush of one
 * page's entries is not modelled, so it undercounts a little.
 *
 * Two costs hide in a single count: a rep-prefixed string instruction
 * (memset, memcpy, user copies) runs once per element under TCG, so the
 * plugin counts its memory accesses ("rep accesses"); and with tlb=1
 * (tlbbits=N sizes it, 8 by default) it models the softmmu TLB for every
 * data access and counts the ones that walk the guest's page tables
 * ("TLB misses"; see tlb_access(); 0 without tlb=1, which slows the guest
 * down several times).  mark=1 writes each phase's start and end to QEMU's
 * log (-d plugin -D FILE), where QEMU's trace events (-trace) also go.
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
struct qemu_plugin_insn;
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
/* This form (a copy into dest) since API version 3 (QEMU 9.0). */
size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest, size_t len);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_cb_t cb,
					    int flags, void *udata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb_t cb, void *udata);
typedef uint32_t qemu_plugin_meminfo_t;
typedef void (*vcpu_mem_cb_t)(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
			      void *udata);
/* flags: QEMU_PLUGIN_CB_NO_REGS (0); rw: QEMU_PLUGIN_MEM_RW (3). */
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, vcpu_mem_cb_t cb, int flags,
				      int rw, void *udata);
/* Writes to QEMU's log (-D FILE), with -d plugin. */
void qemu_plugin_outs(const char *string);

EXPORT int qemu_plugin_version = 2;

#define MAX_PHASES 32

struct block {
	uint64_t vaddr;
	uint32_t insns;
	uint64_t runs[MAX_PHASES];
	uint64_t xpage[MAX_PHASES];
	uint64_t indirect[MAX_PHASES];
	uint64_t missed[MAX_PHASES];
	/* Memory accesses of its rep-prefixed string instructions. */
	uint64_t rep[MAX_PHASES];
	/* Its memory accesses that missed the modelled softmmu TLB (tlb=1). */
	uint64_t tlbmiss[MAX_PHASES];
	bool ends_indirect;
	/* Instructions in the block that flush TLB entries (x86_flush()). */
	uint8_t flushes;
};

static struct block **blocks;
static size_t nblocks, cap;
static uint64_t toggle;
static const char *out;
static bool counting;
static int phase;
static struct block *last;
static bool decode;
/* mark=1: log each phase's start and end, to line up with QEMU's trace. */
static bool mark;
/* Blocks translated while a phase ran: new code, or code translated again. */
static uint64_t translations[MAX_PHASES];
/* TLB-flushing instructions run while a phase ran. */
static uint64_t flushes[MAX_PHASES];

/* QEMU's jump cache: TB_JMP_CACHE_BITS 12, with 4 KiB target pages. */
#define JC_BITS 12
#define JC_PAGE_BITS (JC_BITS / 2)
static uint64_t jump_cache[1 << JC_BITS];

static unsigned int jc_hash(uint64_t pc)
{
	uint64_t tmp = pc ^ (pc >> (12 - JC_PAGE_BITS));

	return ((tmp >> (12 - JC_PAGE_BITS)) & ((1 << JC_BITS) - (1 << JC_PAGE_BITS))) |
	       (tmp & ((1 << JC_PAGE_BITS) - 1));
}

/* A lookup of b; whether it missed the jump cache (then b fills it). */
static bool jc_lookup(const struct block *b)
{
	unsigned int h = jc_hash(b->vaddr);

	if (jump_cache[h] == b->vaddr)
		return false;
	jump_cache[h] = b->vaddr;
	return true;
}

static void block_run(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	bool indirect = last && last->ends_indirect;
	bool lookup = !last || indirect || (last->vaddr >> 12) != (b->vaddr >> 12);
	bool missed = lookup && jc_lookup(b);

	if (counting && phase < MAX_PHASES) {
		b->runs[phase]++;
		flushes[phase] += b->flushes;
		if (indirect)
			b->indirect[phase]++;
		else if (lookup)
			b->xpage[phase]++;
		if (missed)
			b->missed[phase]++;
	}
	last = b;
}

/*
 * The index of an x86 instruction's opcode: past its legacy prefixes and
 * REX; *rep (if not NULL) tells whether a rep prefix was among them.
 */
static size_t x86_opcode(const uint8_t *p, size_t n, bool *rep)
{
	size_t i = 0;

	if (rep)
		*rep = false;
	while (i < n && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xf2 || p[i] == 0xf3 ||
			 p[i] == 0x2e || p[i] == 0x3e || p[i] == 0x26 || p[i] == 0x36 ||
			 p[i] == 0x64 || p[i] == 0x65)) {
		if (rep && (p[i] == 0xf2 || p[i] == 0xf3))
			*rep = true;
		i++;
	}
	if (i < n && (p[i] & 0xf0) == 0x40)
		i++;
	return i;
}

/*
 * Whether an x86 instruction is a return, an indirect call or jump, or an
 * exception return: the transitions that TCG never chains.
 */
static bool x86_indirect(const uint8_t *p, size_t n)
{
	size_t i = x86_opcode(p, n, NULL);

	if (i >= n)
		return false;
	switch (p[i]) {
	case 0xc3: case 0xc2: case 0xcb: case 0xca: case 0xcf:	/* ret, lret, iret */
		return true;
	case 0xff:	/* /2 /3 call, /4 /5 jmp */
		if (i + 1 < n) {
			int reg = (p[i + 1] >> 3) & 7;

			return reg >= 2 && reg <= 5;
		}
		return false;
	case 0x0f:	/* syscall, sysret, sysenter, sysexit */
		return i + 1 < n && (p[i + 1] == 0x05 || p[i + 1] == 0x07 ||
				     p[i + 1] == 0x34 || p[i + 1] == 0x35);
	default:
		return false;
	}
}

enum flush { FLUSH_NONE, FLUSH_PAGE, FLUSH_ALL };

/*
 * Whether an x86 instruction flushes TLB entries: invlpg (one page), or
 * invpcid or a move to CR3 or CR4 (taken as all).  Under TCG each empties
 * part or all of the softmmu TLB and the jump cache, a cost that the
 * guest's instruction count does not show.
 */
static enum flush x86_flush(const uint8_t *p, size_t n)
{
	size_t i = x86_opcode(p, n, NULL);

	if (i + 2 >= n || p[i] != 0x0f)
		return FLUSH_NONE;
	switch (p[i + 1]) {
	case 0x01:	/* invlpg: 0f 01 /7, memory operand */
		return (p[i + 2] >> 6) != 3 && ((p[i + 2] >> 3) & 7) == 7 ? FLUSH_PAGE : FLUSH_NONE;
	case 0x22:	/* mov to CRn: 0f 22 /n */
		return ((p[i + 2] >> 3) & 7) == 3 || ((p[i + 2] >> 3) & 7) == 4 ? FLUSH_ALL
										   : FLUSH_NONE;
	case 0x38:	/* invpcid: 66 0f 38 82 */
		return p[i + 2] == 0x82 ? FLUSH_ALL : FLUSH_NONE;
	default:
		return FLUSH_NONE;
	}
}

/* Whether an x86 instruction is a rep-prefixed string instruction. */
static bool x86_rep_string(const uint8_t *p, size_t n)
{
	bool rep;
	size_t i = x86_opcode(p, n, &rep);

	return rep && i < n && p[i] >= 0xa4 && p[i] <= 0xaf && p[i] != 0xa8 && p[i] != 0xa9;
}

/*
 * A memory access of a rep string instruction: TCG runs such an
 * instruction once per element, so what it moves costs time that its
 * single count as an instruction hides.
 */
static void rep_access(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
		       void *udata)
{
	struct block *b = udata;

	if (counting && phase < MAX_PHASES)
		b->rep[phase]++;
}

/*
 * A model of QEMU's softmmu TLB (accel/tcg/cputlb.c) for data accesses,
 * with tlb=1: per MMU index a direct-mapped table of 1 << tlb_bits
 * entries indexed by page number, backed by a victim TLB of 8 entries
 * filled round-robin; an access that misses both walks the guest's page
 * tables in QEMU (tlb_fill), the cost counted here.  Two indexes stand
 * for the guest's: accesses to the upper half (the kernel's own data)
 * and to the lower (user memory, from user mode or from the kernel's
 * user copies).  A move to CR3 or CR4, or invpcid, empties both
 * (tlb_flush); invlpg's single-page flush, and QEMU's resizing of the
 * table at a flush, are not modelled.
 */
#define VTLB_SIZE 8
static bool tlb;
static unsigned int tlb_bits = 8;
static uint64_t *tlb_main[2];
static uint64_t tlb_victim[2][VTLB_SIZE];
static unsigned int tlb_victim_next[2];

static void tlb_flush(void)
{
	for (int m = 0; m < 2; m++) {
		memset(tlb_main[m], 0xff, sizeof(uint64_t) << tlb_bits);
		memset(tlb_victim[m], 0xff, sizeof(tlb_victim[m]));
	}
}

/* An access to vaddr; whether it walked the page tables. */
static bool tlb_access(uint64_t vaddr)
{
	int m = vaddr >> 63;
	uint64_t page = vaddr >> 12;
	uint64_t *e = &tlb_main[m][page & ((1u << tlb_bits) - 1)];

	if (*e == page)
		return false;
	for (int i = 0; i < VTLB_SIZE; i++) {
		if (tlb_victim[m][i] == page) {
			tlb_victim[m][i] = *e;
			*e = page;
			return false;
		}
	}
	/* tlb_fill: the evicted entry goes to the victim TLB. */
	tlb_victim[m][tlb_victim_next[m]++ % VTLB_SIZE] = *e;
	*e = page;
	return true;
}

static void mem_access(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
		       void *udata)
{
	struct block *b = udata;

	if (tlb_access(vaddr) && counting && phase < MAX_PHASES)
		b->tlbmiss[phase]++;
}

/* A full TLB flush: it empties the jump cache too. */
static void flush_run(unsigned int vcpu, void *udata)
{
	memset(jump_cache, 0, sizeof(jump_cache));
	if (tlb)
		tlb_flush();
}

static void toggle_run(unsigned int vcpu, void *udata)
{
	if (mark) {
		char line[64];

		snprintf(line, sizeof(line), "insn_plugin: phase %d %s\n", phase,
			 counting ? "end" : "start");
		qemu_plugin_outs(line);
	}
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
	if (counting && phase < MAX_PHASES)
		translations[phase]++;
	if (decode && b->insns) {
		uint8_t bytes[16];

		for (size_t k = 0; k < b->insns; k++) {
			struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
			size_t n = qemu_plugin_insn_data(insn, bytes, sizeof(bytes));
			enum flush flush = x86_flush(bytes, n);

			if (k + 1 == b->insns)
				b->ends_indirect = x86_indirect(bytes, n);
			b->flushes += flush != FLUSH_NONE;
			if (x86_rep_string(bytes, n))
				qemu_plugin_register_vcpu_mem_cb(insn, rep_access, 0, 3, b);
			if (tlb)
				qemu_plugin_register_vcpu_mem_cb(insn, mem_access, 0, 3, b);
			if (flush == FLUSH_ALL)
				qemu_plugin_register_vcpu_insn_exec_cb(insn, flush_run, 0, NULL);
		}
	}
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
	for (p = 0; p < MAX_PHASES && p <= phase; p++)
		fprintf(f, "# translations %d %llu\n", p, (unsigned long long)translations[p]);
	for (p = 0; p < MAX_PHASES && p <= phase; p++)
		fprintf(f, "# flushes %d %llu\n", p, (unsigned long long)flushes[p]);
	for (i = 0; i < nblocks; i++)
		for (p = 0; p < MAX_PHASES; p++)
			if (blocks[i]->runs[p])
				fprintf(f, "%d %llx %u %llu %llu %llu %llu %llu %llu\n", p,
					(unsigned long long)blocks[i]->vaddr, blocks[i]->insns,
					(unsigned long long)blocks[i]->runs[p],
					(unsigned long long)blocks[i]->xpage[p],
					(unsigned long long)blocks[i]->indirect[p],
					(unsigned long long)blocks[i]->missed[p],
					(unsigned long long)blocks[i]->rep[p],
					(unsigned long long)blocks[i]->tlbmiss[p]);
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
		else if (!strcmp(argv[i], "mark=1"))
			mark = true;
		else if (!strcmp(argv[i], "tlb=1"))
			tlb = true;
		else if (!strncmp(argv[i], "tlbbits=", 8))
			tlb_bits = strtoul(argv[i] + 8, NULL, 10);
	}
	if (!toggle || !out) {
		fprintf(stderr, "insn_plugin: needs toggle=ADDR and out=FILE\n");
		return -1;
	}
	if (tlb) {
		if (tlb_bits < 6 || tlb_bits > 20) {
			fprintf(stderr, "insn_plugin: tlbbits: 6 to 20\n");
			return -1;
		}
		for (int m = 0; m < 2; m++) {
			tlb_main[m] = malloc(sizeof(uint64_t) << tlb_bits);
			if (!tlb_main[m])
				return -1;
		}
		tlb_flush();
	}
	/* Before version 3, qemu_plugin_insn_data() returned a pointer. */
	decode = info->version.cur >= 3;
	if (!decode)
		fprintf(stderr, "insn_plugin: QEMU's plugin API is older than version 3:"
			" no indirect entries, and returns count as entries across a page\n");
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
