// Test-only program: renders a report.json into report.html (and report.md), so that ctest can
// open the page in headless Chromium (tools/check_report_html.sh) before `toolsft eval` exists.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/report_html.h"
#include "eval/report_markdown.h"
#include "io/file_write.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: render_report REPORT.json OUT.html [OUT.md]\n";
    return 2;
  }
  try {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) tsft::fail(argv[1], ": cannot open");
    nlohmann::ordered_json report;
    try {
      report = nlohmann::ordered_json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
      tsft::fail(argv[1], ": not valid JSON: ", e.what());
    }
    tsft::write_text_file(argv[2], tsft::render_html(report));
    if (argc == 4) tsft::write_text_file(argv[3], tsft::render_markdown(report));
  } catch (const tsft::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
