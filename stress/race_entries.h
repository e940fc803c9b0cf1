// The race catalogue's entries, one file per model generation
// (stress/race_entries_<model>.cc), gathered by race_catalogue().
#pragma once

#include <vector>

#include "stress/race_catalogue.h"

namespace hvo::stress {

void add_v17_races(std::vector<RaceEntry>& c);
void add_v5_18_races(std::vector<RaceEntry>& c);
void add_v6_10_races(std::vector<RaceEntry>& c);
void add_v6_10_demote_races(std::vector<RaceEntry>& c);  // stress/race_entries_demote.cc
void add_v7_1_races(std::vector<RaceEntry>& c);

}  // namespace hvo::stress
