// `time-to-bug --html FILE`: the measurement as a picture, one self-contained
// page (inline SVG and CSS, no script, no network). Per catalogue entry, one
// strip per strategy on a log scale of executions from 1 to the budget: a
// dot per trial that found the bug, a cross past the budget per trial that
// did not, the spread of the found trials (first to last, and the middle
// half as a box) and the median (the table's lower median, not-found
// trials counting as infinite). The free run, when there was one, in words.
#pragma once

#include <string>
#include <vector>

#include "stress/time_to_bug.h"

namespace hvo::stress {

[[nodiscard]] std::string time_to_bug_html(const std::vector<TimeToBug>& results, unsigned trials);

}  // namespace hvo::stress
