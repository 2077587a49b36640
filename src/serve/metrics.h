// The server's counters and latency histograms, rendered in Prometheus' text format for
// GET /metrics. Thread-safe: HTTP threads record, the scrape reads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tsft::serve {

// A cumulative histogram with fixed upper bounds (seconds), as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // "<name>_bucket{le=...} n" lines, then _sum and _count.
  std::string render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // per bucket (not cumulative); the last is +Inf
  double sum_ = 0.0;
  int64_t count_ = 0;
};

struct GaugeValues {
  int64_t queued = 0, running = 0, kv_reserved = 0, kv_budget = 0, connections = 0;
  int64_t prefix_cache_bytes = 0, prefix_cache_entries = 0;
  int64_t prefix_reused_tokens = 0;  // a counter, kept by the engine
};

// Constrained decoding's counters, as the engine keeps them: requests decoded under a tool-call
// grammar, and over those that ended, tokens picked, sampler picks the grammar refused, steps
// that tested the whole vocabulary, and the time spent in the grammar; and the call gate's:
// requests decoded with it, and those whose call it withheld.
struct ConstraintCounters {
  int64_t requests = 0, tokens = 0, rejected = 0, full_masks = 0;
  double seconds = 0.0;
  int64_t gated_requests = 0, calls_withheld = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void request(const std::string& endpoint, int status);
  void tokens(int64_t prompt, int64_t completion);
  void latency(double request_s);
  void time_to_first_token(double s);
  void inter_token_latency(double s);
  std::string render(const GaugeValues& g, const ConstraintCounters& c = {}) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  Histogram latency_, ttft_, itl_;
};

}  // namespace tsft::serve
