// The built-in tools of the synthetic data generators, compiled in so `toolsft gen` needs no
// file: the text of configs/tools/default_tools.json, included as a string literal that CMake
// writes from it at configure time (src/data/default_tools.inc.in).
#include "data/gen_tools.h"

namespace tsft {

const char* builtin_tools_json() {
  return
#include "default_tools.inc"
      ;
}

}  // namespace tsft
