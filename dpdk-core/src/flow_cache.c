/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_cache.c — the per-lcore megaflow cache: masks, sets, lookup of a
 * burst in stages with prefetches, insertion (see flow_cache.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flow_cache.h"
#include "parse.h"

#define FC_LOOKUP_MAX 64 /* keys per fc_lookup_burst() call */
#define FC_RANK_EVERY 1024 /* bursts between two rankings of the masks */

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

/* Hash of key under mask mk (never 0: 0 marks a free way).  CRC32C where
 * the CPU has it (every x86 DPDK builds for), else multiply-rotate. */
static inline uint32_t
fc_hash(const struct fc_mask *mk, const uint64_t *k)
{
#ifdef __SSE4_2__
	uint64_t h = mk->id;

	uint32_t x;

	for (unsigned int j = 0; j < mk->n_words; j++)
		h = _mm_crc32_u64(h, k[mk->words[j]] & mk->m[j]);
	/* CRC is linear: keys whose fields move together (a source address
	 * and a port counted up as one) would share sets without this */
	x = (uint32_t)h;
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x ? x : 1u; /* its low bits pick the set: keep them */
#else
	uint64_t h = (uint64_t)mk->id * 0x9e3779b97f4a7c15ull;

	for (unsigned int j = 0; j < mk->n_words; j++) {
		h ^= k[mk->words[j]] & mk->m[j];
		h *= 0x87c37b91114253d5ull;
		h = (h << 31) | (h >> 33);
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h ? (uint32_t)h : 1u;
#endif
}

/* Whether keys a and b are equal under mask mk. */
static inline bool
fc_same(const struct fc_mask *mk, const uint64_t *a, const uint64_t *b)
{
	for (unsigned int j = 0; j < mk->n_words; j++)
		if ((a[mk->words[j]] ^ b[mk->words[j]]) & mk->m[j])
			return false;
	return true;
}

static inline bool
fc_match(const struct fc_entry *e, const struct fc_mask *mk, const uint64_t *k)
{
	if (e->mask_id != mk->id)
		return false;
	for (unsigned int j = 0; j < mk->n_words; j++) {
		uint64_t v = j < FC_KEY_WORDS_LINE0 ? e->key[j] : e->key_more[j - FC_KEY_WORDS_LINE0];

		if ((k[mk->words[j]] & mk->m[j]) != v)
			return false;
	}
	return true;
}

void
fc_lookup_burst(struct flow_cache *fc, struct sy_flow_key *const *keys, unsigned int n,
		struct fc_entry **out)
{
	struct fc_entry *set[FC_LOOKUP_MAX];
	uint32_t h[FC_LOOKUP_MAX];
	uint8_t todo[FC_LOOKUP_MAX];
	uint8_t same_as[FC_LOOKUP_MAX]; /* an earlier key equal under the mask */
	unsigned int n_todo = n < FC_LOOKUP_MAX ? n : FC_LOOKUP_MAX;

	for (unsigned int i = 0; i < n_todo; i++) {
		out[i] = NULL;
		todo[i] = (uint8_t)i;
	}
	/* Mask by mask, most hit first, for the keys still unanswered: hash
	 * them all and prefetch their sets (both ways, whole: one trip to
	 * memory per key), then compare. */
	for (unsigned int r = 0; r < fc->n_masks && n_todo; r++) {
		struct fc_mask *mk = &fc->mask[fc->order[r]];
		unsigned int keep = 0;
		uint64_t hits = 0;

		for (unsigned int j = 0; j < n_todo; j++) {
			unsigned int i = todo[j];

			/* packets of one flow come in trains: the key before
			 * answers for this one */
			same_as[i] = FC_LOOKUP_MAX;
			if (j && fc_same(mk, (const uint64_t *)keys[todo[j - 1]],
					 (const uint64_t *)keys[i])) {
				same_as[i] = todo[j - 1];
				continue;
			}
			h[i] = fc_hash(mk, (const uint64_t *)keys[i]);
			set[i] = &fc->e[(h[i] & fc->set_mask) * FC_WAYS];
			for (unsigned int w = 0; w < FC_WAYS; w++)
				rte_prefetch0(&set[i][w]);
		}
		for (unsigned int j = 0; j < n_todo; j++) {
			unsigned int i = todo[j];

			if (same_as[i] != FC_LOOKUP_MAX) {
				out[i] = out[same_as[i]];
				hits += out[i] != NULL;
				if (out[i] == NULL)
					todo[keep++] = (uint8_t)i;
				continue;
			}
			for (unsigned int w = 0; w < FC_WAYS; w++) {
				struct fc_entry *e = &set[i][w];

				if (e->hash == h[i] && fc_match(e, mk, (const uint64_t *)keys[i])) {
					out[i] = e;
					rte_prefetch0((const uint8_t *)e + RTE_CACHE_LINE_SIZE);
					hits++;
					break;
				}
			}
			if (out[i] == NULL)
				todo[keep++] = (uint8_t)i;
		}
		mk->hits += hits;
		n_todo = keep;
	}
}

/* The slot of the mask with these words, made if need be. */
static unsigned int
fc_mask_get(struct flow_cache *fc, const uint8_t *words, const uint64_t *m, unsigned int n)
{
	struct fc_mask *mk;
	unsigned int slot;

	for (unsigned int r = 0; r < fc->n_masks; r++) {
		mk = &fc->mask[fc->order[r]];
		if (mk->n_words == n && memcmp(mk->words, words, n) == 0 &&
		    memcmp(mk->m, m, n * sizeof(m[0])) == 0)
			return fc->order[r];
	}
	if (fc->n_masks < FC_MAX_MASKS) {
		slot = fc->n_masks;
		fc->order[fc->n_masks++] = (uint8_t)slot;
	} else {
		/* The least used goes; a new id makes its entries dead. */
		slot = fc->order[FC_MAX_MASKS - 1];
	}
	mk = &fc->mask[slot];
	mk->id = fc->next_id++;
	if (fc->next_id == 0)
		fc->next_id = 1;
	mk->n_words = (uint8_t)n;
	memcpy(mk->words, words, n);
	memcpy(mk->m, m, n * sizeof(m[0]));
	mk->hits = 0;
	return slot;
}

void
fc_insert(struct flow_cache *fc, const struct sy_flow_key *key, const struct fc_path *path)
{
	const uint64_t *k = (const uint64_t *)key;
	uint8_t words[FC_KEY_WORDS];
	uint64_t m[FC_KEY_WORDS];
	unsigned int n = 0, way;
	struct fc_mask *mk;
	struct fc_entry *e;
	uint32_t h;

	for (unsigned int w = 0; w < SY_FLOW_KEY_WORDS; w++) {
		if (!path->wc[w] || !(PARSE_KEY_WORDS & (1u << w)))
			continue; /* not consulted, or the same in every key */
		if (n == FC_KEY_WORDS)
			return; /* too wide to cache */
		words[n] = (uint8_t)w;
		m[n++] = path->wc[w];
	}
	mk = &fc->mask[fc_mask_get(fc, words, m, n)];
	h = fc_hash(mk, k);
	e = &fc->e[(h & fc->set_mask) * FC_WAYS];
	/* a free way, else one that is stale, else the oldest (in turn, when
	 * they are as old) */
	for (way = 0; way < FC_WAYS; way++)
		if (e[way].hash == 0 || !fc_entry_current(&e[way]))
			break;
	if (way == FC_WAYS) {
		way = fc->victim++ % FC_WAYS;
		for (unsigned int w = 0; w < FC_WAYS; w++)
			if (e[w].stamp < e[way].stamp)
				way = w;
	}
	e = &e[way];
	e->hash = h;
	e->mask_id = mk->id;
	e->stamp = path->stamp;
	e->n_hops = path->n_hops;
	e->open = path->open;
	for (unsigned int i = 0; i < FC_HOPS; i++) {
		e->tbl[i] = i < path->n_hops ? path->tbl[i] : 0;
		e->f[i] = i < path->n_hops ? path->f[i] : NULL;
	}
	for (unsigned int j = 0; j < FC_KEY_WORDS; j++) {
		uint64_t v = j < n ? k[words[j]] & m[j] : 0;

		if (j < FC_KEY_WORDS_LINE0)
			e->key[j] = v;
		else
			e->key_more[j - FC_KEY_WORDS_LINE0] = v;
	}
}

void
fc_tick(struct flow_cache *fc)
{
	if (++fc->ticks % FC_RANK_EVERY)
		return;
	/* insertion sort of a few slots by decreasing hits, then decay */
	for (unsigned int i = 1; i < fc->n_masks; i++) {
		uint8_t x = fc->order[i];
		unsigned int j = i;

		while (j && fc->mask[fc->order[j - 1]].hits < fc->mask[x].hits) {
			fc->order[j] = fc->order[j - 1];
			j--;
		}
		fc->order[j] = x;
	}
	for (unsigned int i = 0; i < fc->n_masks; i++)
		fc->mask[fc->order[i]].hits /= 2;
}

/* Zeroed memory for a big array, in transparent huge pages where the
 * kernel gives them (a lookup touches random lines of it: with 4 KB pages
 * every one would also be a TLB miss). */
static void *
fc_map(size_t size)
{
	size_t huge = 2u << 20, len = RTE_ALIGN_CEIL(size, huge) + huge;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return NULL;
	a = RTE_PTR_ALIGN_CEIL(p, huge);
	if (a > p)
		munmap(p, (size_t)(a - p));
	len -= (size_t)(a - p);
	if (len > RTE_ALIGN_CEIL(size, huge))
		munmap(a + RTE_ALIGN_CEIL(size, huge), len - RTE_ALIGN_CEIL(size, huge));
#ifdef MADV_HUGEPAGE
	madvise(a, RTE_ALIGN_CEIL(size, huge), MADV_HUGEPAGE);
#endif
	return a;
}

static void
fc_unmap(void *p, size_t size)
{
	if (p)
		munmap(p, RTE_ALIGN_CEIL(size, 2u << 20));
}

struct flow_cache *
fc_create(unsigned int n_entries)
{
	struct flow_cache *fc = calloc(1, sizeof(*fc));
	size_t n = FC_WAYS * 2;

	if (fc == NULL)
		return NULL;
	while (n < n_entries)
		n *= 2;
	fc->set_mask = (uint32_t)(n / FC_WAYS - 1);
	fc->next_id = 1;
	fc->e = fc_map(n * sizeof(fc->e[0]));
	if (fc->e == NULL) {
		fc_destroy(fc);
		return NULL;
	}
	return fc;
}

void
fc_destroy(struct flow_cache *fc)
{
	size_t n;

	if (fc == NULL)
		return;
	n = ((size_t)fc->set_mask + 1) * FC_WAYS;
	fc_unmap(fc->e, n * sizeof(fc->e[0]));
	free(fc);
}
