#include "engine/check.h"

namespace hvo {

void check_failed(const char* cond, const char* msg, const char* file, int line) {
  throw InternalError(std::string("internal error: ") + msg + " (" + cond + ") at " + file + ":" +
                      std::to_string(line));
}

}  // namespace hvo
