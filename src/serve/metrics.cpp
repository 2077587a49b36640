#include "serve/metrics.h"

#include <sstream>
#include <tuple>

namespace tsft::serve {
namespace {

std::string num(double v) {
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

std::string Histogram::render(const std::string& name) const {
  std::string out;
  int64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
  return out;
}

ServerMetrics::ServerMetrics()
    : latency_({0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}),
      ttft_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void ServerMetrics::request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[{endpoint, status}];
}

void ServerMetrics::tokens(int64_t prompt, int64_t completion) {
  std::lock_guard<std::mutex> lk(mu_);
  prompt_tokens_ += prompt;
  completion_tokens_ += completion;
}

void ServerMetrics::latency(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  latency_.observe(s);
}

void ServerMetrics::time_to_first_token(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  ttft_.observe(s);
}

void ServerMetrics::inter_token_latency(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  itl_.observe(s);
}

std::string ServerMetrics::render(const GaugeValues& g, const ConstraintCounters& c) const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string o;
  o += "# HELP toolsft_requests_total HTTP requests answered, by endpoint and status.\n";
  o += "# TYPE toolsft_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    o += "toolsft_requests_total{endpoint=\"" + key.first + "\",status=\"" +
         std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  o += "# HELP toolsft_prompt_tokens_total Prompt tokens processed.\n";
  o += "# TYPE toolsft_prompt_tokens_total counter\n";
  o += "toolsft_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  o += "# HELP toolsft_generation_tokens_total Tokens generated.\n";
  o += "# TYPE toolsft_generation_tokens_total counter\n";
  o += "toolsft_generation_tokens_total " + std::to_string(completion_tokens_) + "\n";
  const std::tuple<const char*, const char*, std::string> constraint[] = {
      {"toolsft_constrained_requests_total",
       "Chat requests decoded under a tool-call grammar (schema-constrained decoding).",
       std::to_string(c.requests)},
      {"toolsft_constrained_tokens_total", "Tokens picked under a tool-call grammar.",
       std::to_string(c.tokens)},
      {"toolsft_constraint_rejected_tokens_total",
       "Sampler picks a tool-call grammar refused (masked, then sampled again).",
       std::to_string(c.rejected)},
      {"toolsft_constraint_full_masks_total",
       "Decoding steps where a tool-call grammar tested the whole vocabulary.",
       std::to_string(c.full_masks)},
      {"toolsft_constraint_seconds_total", "Time spent picking and accepting under a grammar.",
       num(c.seconds)},
      {"toolsft_call_gated_requests_total",
       "Chat requests decoded with the call gate (serve --call-gate).",
       std::to_string(c.gated_requests)},
      {"toolsft_calls_withheld_total",
       "Chat replies the call gate made text only (call probability below its threshold).",
       std::to_string(c.calls_withheld)},
      {"toolsft_prefix_reused_tokens_total",
       "Prompt tokens whose keys and values were copied from the prefix cache or a running "
       "request instead of computed.",
       std::to_string(g.prefix_reused_tokens)}};
  for (const auto& [name, help, v] : constraint) {
    o += std::string("# HELP ") + name + " " + help + "\n";
    o += std::string("# TYPE ") + name + " counter\n";
    o += std::string(name) + " " + v + "\n";
  }
  const std::pair<const char*, int64_t> gauges[] = {
      {"toolsft_queue_depth", g.queued},
      {"toolsft_running_requests", g.running},
      {"toolsft_kv_reserved_tokens", g.kv_reserved},
      {"toolsft_kv_budget_tokens", g.kv_budget},
      {"toolsft_open_connections", g.connections},
      {"toolsft_prefix_cache_bytes", g.prefix_cache_bytes},
      {"toolsft_prefix_cache_entries", g.prefix_cache_entries}};
  for (const auto& [name, v] : gauges) {
    o += std::string("# TYPE ") + name + " gauge\n";
    o += std::string(name) + " " + std::to_string(v) + "\n";
  }
  o += "# HELP toolsft_request_latency_seconds Time from request to the last byte of the reply.\n";
  o += "# TYPE toolsft_request_latency_seconds histogram\n";
  o += latency_.render("toolsft_request_latency_seconds");
  o += "# HELP toolsft_time_to_first_token_seconds Time from request to the first generated text.\n";
  o += "# TYPE toolsft_time_to_first_token_seconds histogram\n";
  o += ttft_.render("toolsft_time_to_first_token_seconds");
  o += "# HELP toolsft_inter_token_latency_seconds Time between streamed text pieces.\n";
  o += "# TYPE toolsft_inter_token_latency_seconds histogram\n";
  o += itl_.render("toolsft_inter_token_latency_seconds");
  return o;
}

}  // namespace tsft::serve
