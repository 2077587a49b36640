// Progress lines on stderr (training steps, evaluated examples): one carriage-return-updated line
// on a terminal, plain lines otherwise. The formatting helpers are pure functions, tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tsft {

// "45s", "3m12s", "1h05m", "2d03h"; "--" when unknown (negative, NaN or infinite).
std::string format_eta(double seconds);
// A rate with thousands separators and no decimals: 2345.6 -> "2,346"; below 10 one decimal.
std::string format_rate(double per_second);
// "[=====>     ]" of `width` characters between the brackets for fraction in [0, 1].
std::string format_bar(double fraction, int width);

// The whole line without a trailing newline, e.g.
// "step 120/500 [=====>     ] 24% | epoch 0.48 | loss 1.2345 | lr 1.80e-04 | 2,345 tok/s | ETA
// 3m12s". total_steps <= 0 leaves out the total, bar, percentage and ETA; bar_width 0 leaves out
// the bar.
std::string format_progress_line(int64_t step, int64_t total_steps, double epoch, double loss,
                                 double lr, double tokens_per_s, double eta_s, int bar_width);

// A counter line, e.g. "eval final 120/2000 [=====>     ] 6% | 45.2 examples/s | ETA 41s".
std::string format_count_line(const std::string& label, int64_t done, int64_t total,
                              double per_second, const std::string& unit, double eta_s,
                              int bar_width);

class ProgressBar {
 public:
  // Writes to stderr, redrawing in place when stderr is a terminal. `start_step` is the step the
  // run starts from (non-zero on resume), so the ETA counts only steps done by this process.
  ProgressBar(int64_t total_steps, bool enabled, int64_t start_step = 0);
  // For tests: explicit stream and terminal-ness.
  ProgressBar(int64_t total_steps, bool enabled, int64_t start_step, std::FILE* out, bool tty);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Does nothing when disabled.
  void update(int64_t step, double epoch, double loss, double lr, double tokens_per_s);
  // The counter line for work counted in items (total_steps items); when stderr is not a
  // terminal, written at most every 10% of the total so logs stay short.
  void update_count(int64_t done, const std::string& label, const std::string& unit);
  // A full line (an eval result, "saved checkpoint-200") printed above the bar, which is then
  // redrawn; printed also when the bar is disabled.
  void message(const std::string& text);
  // Ends the bar's line; called by the destructor if not before.
  void finish();

 private:
  int64_t total_;
  bool enabled_;
  int64_t start_step_;
  std::FILE* out_;
  bool tty_;
  bool drawn_ = false;  // a \r-line is on screen without its newline
  std::string last_line_;
  int64_t last_logged_tenth_ = -1;  // update_count without a terminal
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tsft
