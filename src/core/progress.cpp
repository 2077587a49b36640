// ProgressBar and its pure formatting helpers.
#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tsft {

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else if (s < 86400)
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof(buf), "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  return buf;
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) return "--";
  if (per_second < 10) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", per_second);
    return buf;
  }
  std::string digits = std::to_string(static_cast<long long>(std::llround(per_second)));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_bar(double fraction, int width) {
  fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * width);
  std::string bar = "[";
  for (int i = 0; i < width; ++i) bar += i < filled ? '=' : (i == filled ? '>' : ' ');
  return bar + "]";
}

std::string format_progress_line(int64_t step, int64_t total_steps, double epoch, double loss,
                                 double lr, double tokens_per_s, double eta_s, int bar_width) {
  char buf[256];
  std::string line = "step " + std::to_string(step);
  if (total_steps > 0) {
    const double frac = std::clamp(static_cast<double>(step) / total_steps, 0.0, 1.0);
    line += "/" + std::to_string(total_steps);
    if (bar_width > 0) line += " " + format_bar(frac, bar_width);
    std::snprintf(buf, sizeof(buf), " %d%%", static_cast<int>(frac * 100));
    line += buf;
  }
  std::snprintf(buf, sizeof(buf), " | epoch %.2f | loss %.4f | lr %.2e | %s tok/s", epoch, loss, lr,
                format_rate(tokens_per_s).c_str());
  line += buf;
  if (total_steps > 0) line += " | ETA " + format_eta(eta_s);
  return line;
}

std::string format_count_line(const std::string& label, int64_t done, int64_t total,
                              double per_second, const std::string& unit, double eta_s,
                              int bar_width) {
  char buf[64];
  std::string line = label + " " + std::to_string(done);
  if (total > 0) {
    const double frac = std::clamp(static_cast<double>(done) / total, 0.0, 1.0);
    line += "/" + std::to_string(total);
    if (bar_width > 0) line += " " + format_bar(frac, bar_width);
    std::snprintf(buf, sizeof(buf), " %d%%", static_cast<int>(frac * 100));
    line += buf;
  }
  line += " | " + format_rate(per_second) + " " + unit + "/s";
  if (total > 0) line += " | ETA " + format_eta(eta_s);
  return line;
}

ProgressBar::ProgressBar(int64_t total_steps, bool enabled, int64_t start_step)
    : ProgressBar(total_steps, enabled, start_step, stderr, isatty(fileno(stderr)) != 0) {}

ProgressBar::ProgressBar(int64_t total_steps, bool enabled, int64_t start_step, std::FILE* out,
                         bool tty)
    : total_(total_steps),
      enabled_(enabled),
      start_step_(start_step),
      out_(out),
      tty_(tty),
      start_(std::chrono::steady_clock::now()) {
  TSFT_CHECK(out_ != nullptr);
}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(int64_t step, double epoch, double loss, double lr, double tokens_per_s) {
  if (!enabled_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = step - start_step_;
  const double eta = done > 0 ? elapsed / done * static_cast<double>(total_ - step) : -1.0;
  last_line_ =
      format_progress_line(step, total_, epoch, loss, lr, tokens_per_s, eta, tty_ ? 20 : 0);
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s", last_line_.c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "%s\n", last_line_.c_str());
  }
  std::fflush(out_);
}

void ProgressBar::update_count(int64_t done, const std::string& label, const std::string& unit) {
  if (!enabled_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? (done - start_step_) / elapsed : 0.0;
  const double eta = done > start_step_ ? elapsed / (done - start_step_) * (total_ - done) : -1.0;
  last_line_ = format_count_line(label, done, total_, rate, unit, eta, tty_ ? 20 : 0);
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s", last_line_.c_str());
    drawn_ = true;
  } else {
    const int64_t tenth = total_ > 0 ? done * 10 / total_ : 0;
    if (tenth == last_logged_tenth_) return;
    last_logged_tenth_ = tenth;
    std::fprintf(out_, "%s\n", last_line_.c_str());
  }
  std::fflush(out_);
}

void ProgressBar::message(const std::string& text) {
  if (drawn_) {
    std::fprintf(out_, "\r\033[K%s\n%s", text.c_str(), last_line_.c_str());
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = false;
  }
}

}  // namespace tsft
