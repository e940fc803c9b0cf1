#include "stress/options_parse.h"

#include "stress/usage_error.h"

namespace po = boost::program_options;

namespace hvo::cli {

namespace {

// Catches every word that no positional slot takes, so a stray argument is
// reported by name rather than as Boost's "too many positional options".
constexpr const char* kStray = "hvo-stray-argument";

[[noreturn]] void rethrow_as_usage(const Command& command, const po::error& e) {
  const std::string cmd(command.name);
  const std::string see = " (see: hvo-stress help " + cmd + ")";
  if (const auto* u = dynamic_cast<const po::unknown_option*>(&e))
    throw UsageError(u->get_option_name(), "unknown flag for '" + cmd + "'" + see);
  if (const auto* s = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
    switch (s->kind()) {
      case po::invalid_syntax::missing_parameter:
        throw UsageError(s->get_option_name(), "missing value" + see);
      case po::invalid_syntax::empty_adjacent_parameter:  // "--memory="
        throw UsageError(s->get_option_name(), "empty value" + see);
      case po::invalid_syntax::extra_parameter:
        throw UsageError(s->get_option_name(), "takes no value" + see);
      default: throw UsageError(cmd, e.what());
    }
  }
  if (const auto* m = dynamic_cast<const po::multiple_occurrences*>(&e))
    throw UsageError(m->get_option_name(), "given more than once");
  if (const auto* n = dynamic_cast<const po::error_with_option_name*>(&e))
    throw UsageError(n->get_option_name(), e.what());
  throw UsageError(cmd, e.what());
}

}  // namespace

po::options_description all_flags(const Command& command) {
  po::options_description flags = command.flags ? command.flags() : po::options_description();
  flags.add_options()("help,h", "show this help");
  return flags;
}

po::variables_map parse_options(const Command& command, const std::vector<std::string>& args) {
  po::options_description flags = all_flags(command);
  po::options_description hidden;
  po::positional_options_description positional;
  bool variadic = false;
  for (std::string_view name : command.positionals) {
    // "RESULT...": one or more words, as a vector; it takes every word
    // left, so it comes last and leaves no stray to catch.
    variadic = name.ends_with("...");
    if (variadic) hidden.add_options()(std::string(name).c_str(), po::value<std::vector<std::string>>());
    else hidden.add_options()(std::string(name).c_str(), po::value<std::string>());
    positional.add(std::string(name).c_str(), variadic ? -1 : 1);
  }
  hidden.add_options()(kStray, po::value<std::vector<std::string>>());
  if (!variadic) positional.add(kStray, -1);
  flags.add(hidden);

  po::variables_map vm;
  try {
    // No guessing: "--mem" must not silently mean "--memory", and a flag
    // added later must not make an existing abbreviation ambiguous.
    const int style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(flags).positional(positional).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    rethrow_as_usage(command, e);
  }

  // Boost takes the word after a valued flag as its value even when it is
  // another flag ("--memory --json"); report the missing value instead of
  // complaining that "--json" is not a size.
  for (const auto& [name, value] : vm) {
    const auto* text = boost::any_cast<std::string>(&value.value());
    if (!value.defaulted() && text != nullptr && text->starts_with("--"))
      throw UsageError("--" + name, "missing value (before '" + abbreviate(*text) + "')");
  }

  const std::string cmd(command.name);
  if (vm.count(kStray))
    throw UsageError(cmd, "unexpected argument '" + abbreviate(vm[kStray].as<std::vector<std::string>>().front()) +
                              "' (see: hvo-stress help " + cmd + ")");
  if (!vm.count("help")) {
    for (std::string_view name : command.positionals)
      if (!vm.count(std::string(name)))
        throw UsageError(cmd, "missing " + std::string(name) + " (see: hvo-stress help " + cmd + ")");
  }
  return vm;
}

}  // namespace hvo::cli
