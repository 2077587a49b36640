#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace tsft {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log_line(LogLevel level, const std::string& msg) {
  static const char* kNames[] = {"debug", "info", "warn", "error", ""};
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "[%s] %s\n", kNames[static_cast<int>(level)], msg.c_str());
}

}  // namespace tsft
