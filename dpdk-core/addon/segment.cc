// SPDX-License-Identifier: BSD-3-Clause
//
// segment.cc — the stats segment reader (segment.h).
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "convert.h"

namespace sy {

namespace {

// A publish holds the seqlock odd for a few microseconds: a reader that
// meets one yields and tries again, this many times or this long at most.
const unsigned kReadTries = 1000;
const uint64_t kReadBudgetNs = 5000000;

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// "" if the header h describes a segment of our layout, else what differs.
std::string LayoutMismatch(const sy_sseg_hdr& h) {
  struct Field {
    const char* name;
    uint64_t got, want;
  };
  const Field fields[] = {
      {"layout version", h.version, SY_SSEG_VERSION},
      {"header size", h.hdr_size, sizeof(sy_sseg_hdr)},
      {"size", h.size, sizeof(sy_stats_segment)},
      {"max ports", h.max_ports, SY_SSEG_MAX_PORTS},
      {"max tables", h.max_tables, SY_SSEG_MAX_TABLES},
      {"max PMD lcores", h.max_pmds, SY_SSEG_MAX_PMDS},
      {"drop slots", h.drop_slots, SY_DROP_SLOTS},
      {"port record size", h.port_size, sizeof(sy_sseg_port)},
      {"table record size", h.table_size, sizeof(sy_sseg_table)},
      {"PMD record size", h.pmd_size, sizeof(sy_pmd_stats)},
  };
  for (const Field& f : fields)
    if (f.got != f.want)
      return std::string("its ") + f.name + " is " + std::to_string(f.got) + ", this addon reads " +
             std::to_string(f.want) + " (a data plane and addon of different builds?)";
  return "";
}

}  // namespace

bool StatsSegment::Open(const std::string& path, uint32_t pid, std::string* why) {
  Close();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    *why = "cannot open the stats segment " + path + ": " + strerror(e);
    if (e == EACCES) *why += " (it is mode 0600: read it as the data plane's user)";
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < sizeof(sy_stats_segment)) {
    close(fd);
    *why = "the stats segment " + path + " is not a file of " + std::to_string(sizeof(sy_stats_segment)) +
           " bytes";
    return false;
  }
  void* p = mmap(nullptr, sizeof(sy_stats_segment), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) {
    *why = "cannot map the stats segment " + path + ": " + strerror(errno);
    return false;
  }
  const sy_stats_segment* s = static_cast<const sy_stats_segment*>(p);
  std::string bad;
  if (__atomic_load_n(&s->hdr.magic, __ATOMIC_ACQUIRE) != SY_SSEG_MAGIC)
    bad = "it is not a stats segment (bad magic)";
  else if (!(bad = LayoutMismatch(s->hdr)).empty())
    ;
  else if (s->hdr.pid != pid)
    bad = "it belongs to pid " + std::to_string(s->hdr.pid) + ", not to the data plane we talk to (pid " +
          std::to_string(pid) + ")";
  if (!bad.empty()) {
    munmap(p, sizeof(sy_stats_segment));
    *why = "the stats segment " + path + " cannot be read: " + bad;
    return false;
  }
  map_ = s;
  path_ = path;
  return true;
}

void StatsSegment::Close() {
  if (map_) munmap(const_cast<sy_stats_segment*>(map_), sizeof(sy_stats_segment));
  map_ = nullptr;
}

bool StatsSegment::Read(sy_stats_segment* out, std::string* why) const {
  const sy_stats_segment* m = map_;
  if (!m) {
    *why = "the stats segment is not mapped";
    return false;
  }
  uint64_t start = 0;
  for (unsigned i = 0; i < kReadTries; i++) {
    uint64_t s1 = __atomic_load_n(&m->hdr.seq, __ATOMIC_ACQUIRE);
    if ((s1 & 1) == 0) {
      // Copy only what is valid; counts read mid-publish may be anything,
      // so they are bounded before use (and the copy then discarded).
      out->hdr = m->hdr;
      uint32_t np = out->hdr.n_ports, nt = out->hdr.n_tables, nm = out->hdr.n_pmds;
      bool sane = np <= SY_SSEG_MAX_PORTS && nt <= SY_SSEG_MAX_TABLES && nm <= SY_SSEG_MAX_PMDS;
      if (sane) {
        out->dp = m->dp;
        memcpy(out->port, m->port, np * sizeof(m->port[0]));
        memcpy(out->table, m->table, nt * sizeof(m->table[0]));
        memcpy(out->pmd, m->pmd, nm * sizeof(m->pmd[0]));
      }
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(&m->hdr.seq, __ATOMIC_RELAXED) == s1) {
        if (!sane) {
          *why = "the stats segment " + path_ + " holds impossible counts";
          return false;
        }
        if (!out->hdr.live) {
          *why = "the data plane (pid " + std::to_string(out->hdr.pid) + ") has stopped publishing to " + path_;
          return false;
        }
        return true;
      }
    }
    // A publish is under way: let the data plane's main lcore finish it.
    if (start == 0) start = NowNs();
    else if (NowNs() - start > kReadBudgetNs) break;
    sched_yield();
  }
  *why = "the stats segment " + path_ + " was being written on every try for " +
         std::to_string(kReadBudgetNs / 1000000) + " ms";
  return false;
}

Napi::Object StatsSnapshotToJs(Napi::Env env, const sy_stats_segment& s) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Object dp = DpStatsToJs(env, s.dp);
  o.Set("timeNs", Napi::BigInt::New(env, s.hdr.time_ns));
  o.Set("rxPackets", dp.Get("rxPackets"));
  o.Set("txPackets", dp.Get("txPackets"));
  o.Set("drops", dp.Get("drops"));
  Napi::Array ports = Napi::Array::New(env, s.hdr.n_ports);
  for (uint32_t i = 0; i < s.hdr.n_ports; i++) {
    Napi::Object p = PortStatsToJs(env, s.port[i].st);
    p.Set("linkUp", Napi::Boolean::New(env, s.port[i].link_up != 0));
    ports.Set(i, p);
  }
  o.Set("ports", ports);
  Napi::Array tables = Napi::Array::New(env, s.hdr.n_tables);
  for (uint32_t i = 0; i < s.hdr.n_tables; i++) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("id", s.table[i].id);
    t.Set("nFlows", s.table[i].n_flows);
    t.Set("lookups", Napi::BigInt::New(env, s.table[i].lookups));
    t.Set("matched", Napi::BigInt::New(env, s.table[i].matched));
    tables.Set(i, t);
  }
  o.Set("tables", tables);
  Napi::Array pmds = Napi::Array::New(env, s.hdr.n_pmds);
  for (uint32_t i = 0; i < s.hdr.n_pmds; i++) pmds.Set(i, PmdStatsToJs(env, s.pmd[i]));
  o.Set("pmds", pmds);
  return o;
}

}  // namespace sy
