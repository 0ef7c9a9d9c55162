/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats_segment.h — the data plane's side of the stats segment: creating
 * the file, publishing the counters into it, removing it.
 *
 * What?
 *   The layout and the reader's rules are in <switchyard/stats_segment.h>.
 *   Here the main lcore gathers every counter with the functions behind
 *   the stats messages (dp_stats, dp_port_list, dp_port_stats,
 *   dp_table_list, dp_pmd_stats: dataplane.h), so the segment holds exactly
 *   what DP_STATS, PORT_STATS, TABLE_LIST and PMD_STATS would answer at
 *   that moment, cleared counters included.  It gathers into a private
 *   copy first (rte_eth_stats_get and the per-lcore sums take a few
 *   microseconds a port) and holds the seqlock odd only while it copies
 *   that into the mapping, so readers rarely have to retry.
 *
 * When
 *   sseg_periodic() from the control loop, beside dp_periodic() (every
 *   100 ms), and sseg_publish() before the control server answers a
 *   request that sseg_changed_by() names, so that a client that reads the
 *   segment after the reply sees its effect.  Forwarding lcores never
 *   touch it.
 *
 * Files
 *   sseg_init() takes the path given (`--stats-segment`, default
 *   `dp.stats` beside the control socket), makes it absolute, removes a
 *   stale file that no running data plane holds (flock), creates the new
 *   one with O_CREAT|O_EXCL and mode 0600, sizes it and maps it
 *   MAP_SHARED.  sseg_fini() marks it stopped (live = 0), unmaps it and
 *   unlinks it if the path still names our file.
 *
 * Threads
 *   The main lcore only.  Without sseg_init() (or after a failed one)
 *   every other call does nothing.
 */
#ifndef SY_STATS_SEGMENT_H
#define SY_STATS_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Creates and maps the segment at path.  Returns 0, or -1 with err saying
 * what failed and naming the path. */
int sseg_init(const char *path, char *err, size_t errlen);

/* The segment's absolute path (HELLO announces it), or NULL without one. */
const char *sseg_path(void);

/* Gathers every counter and publishes it now. */
void sseg_publish(void);

/* Publishes unless a publish happened less than half a period ago. */
void sseg_periodic(void);

/* Whether a successful request of this type changes what the segment
 * shows (clears, ports, tables): publish before answering it. */
bool sseg_changed_by(uint16_t msg_type);

/* Marks the segment stopped, unmaps it and removes its file. */
void sseg_fini(void);

#endif /* SY_STATS_SEGMENT_H */
