// report.json (docs/EVAL_REPORT.md) as one self-contained HTML page: inline CSS and SVG charts,
// no scripts, fonts, images or network; readable on a laptop screen and printable.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tsft {

// The whole report.html. Every piece of text from the report is escaped; a chart whose data is
// absent is replaced by a one-line note. The page names its number of <svg> charts in
// <meta name="toolsft-svg-count"> (tools/check_report_html.sh checks it after a browser parse).
// tsft::Error naming the field when the report does not follow the contract.
std::string render_html(const nlohmann::ordered_json& report);

}  // namespace tsft
