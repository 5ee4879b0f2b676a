// core/main/modes.cpp: the command-line modes that exist today.
//
// -bV (version, build facts and the loaded modules), -be (expansion test), -bP (print options).
// The SMTP modes (-bd, -bs, -bh) and the delivery modes (-bt, -bv, -bp, -q, -M...) are
// served by core/server and core/deliver through the runners main.cpp passes to run().
#include "core/main/modes.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/main/command_line.hpp"
#include "core/main/runtime.hpp"
#include "tern/module.h"

namespace tern::cli {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "tern: %s\n", message.c_str());
  return 1;
}

// One -be line: Exim prints the result or `Failed: <reason>`.
void print_expansion(Runtime& rt, std::string_view input) {
  auto r = expand::expand(input, rt.context());
  if (r) {
    std::fwrite(r->data(), 1, r->size(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::printf("Failed: %s\n", r.error().message.c_str());
  }
}

// -be: each argument, or each line of standard input. As Exim does, stdin
// lines are read after a "> " prompt; `NAME = value` lines define macros,
// other lines have macros substituted before expansion, and a line ending
// in a backslash continues on the next.
int run_expand(Runtime& rt, const CommandLine& cl) {
  if (!cl.args.empty()) {
    // Macros are substituted first; an argument that then starts with an
    // upper-case letter is a macro definition (Exim's -be), and a malformed
    // one is reported on stderr and prints nothing.
    for (const auto& arg : cl.args) {
      std::string a = rt.substitute_macros(arg), name;
      if (!a.empty() && a[0] >= 'A' && a[0] <= 'Z') {
        if (rt.define_macro(a, &name)) std::printf("Defined macro '%s'\n", name.c_str());
        else std::fprintf(stderr, "tern: -be: malformed macro definition: %s\n", a.c_str());
        continue;
      }
      print_expansion(rt, a);
    }
    return 0;
  }
  // Output is flushed before each read only when a person is typing: piped
  // input (the benchmark, scripts) gets fully buffered output.
  const bool interactive = isatty(STDIN_FILENO);
  char* buf = nullptr;
  size_t cap = 0;
  for (;;) {
    std::fputs("> ", stdout);
    if (interactive) std::fflush(stdout);
    std::string logical;
    bool got = false;
    ssize_t n;
    while ((n = getline(&buf, &cap, stdin)) >= 0) {
      got = true;
      std::string_view line(buf, static_cast<size_t>(n));
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      bool continued = !line.empty() && line.back() == '\\';
      if (continued) line.remove_suffix(1);
      logical += line;
      if (!continued) break;
    }
    if (!got) break;
    std::string name;
    if (rt.define_macro(logical, &name)) {
      std::printf("Defined macro '%s'\n", name.c_str());
      continue;
    }
    print_expansion(rt, rt.substitute_macros(logical));
  }
  std::free(buf);
  std::fputc('\n', stdout);
  return 0;
}

// -bP: every main option, or the named ones, as Exim prints them.
int run_print_options(Runtime& rt, const CommandLine& cl) {
  const auto& c = rt.config();
  if (cl.args.empty()) {
    std::fputs(config::format_main_options(c).c_str(), stdout);
    return 0;
  }
  int status = 0;
  for (size_t i = 0; i < cl.args.size(); ++i) {
    const std::string& name = cl.args[i];
    Result<std::string> text = std::string();
    auto next = [&]() -> std::string { return i + 1 < cl.args.size() ? cl.args[++i] : ""; };
    if (name == "all") text = config::format_main_options(c);
    else if (name == "routers") text = config::format_drivers(c, config::Scope::kRouter);
    else if (name == "transports") text = config::format_drivers(c, config::Scope::kTransport);
    else if (name == "authenticators") text = config::format_drivers(c, config::Scope::kAuthenticator);
    else if (name == "router") text = config::format_driver(c, config::Scope::kRouter, next());
    else if (name == "transport") text = config::format_driver(c, config::Scope::kTransport, next());
    else if (name == "authenticator") text = config::format_driver(c, config::Scope::kAuthenticator, next());
    else if (name == "macros") text = config::format_macros(c);
    else if (name == "macro") text = config::format_macro(c, next());
    else if (name == "config_file") text = "configuration_file = " + rt.config().file + "\n";
    else text = config::format_main_option(c, name);
    if (text) {
      std::fputs(text->c_str(), stdout);
    } else {
      std::printf("%s\n", text.error().message.c_str());
      status = 1;
    }
  }
  return status;
}

int run_version(Runtime& rt) {
  std::printf("tern version %s (reads Exim 4.96 configuration and expansion)\n", TERN_VERSION);
  std::printf("Module ABI: %d.%d\n", TERN_ABI_MAJOR, TERN_ABI_MINOR);
  std::printf("Support for: OpenSSL PCRE2 IPv6 crypteq\n");
  std::printf("Lookups (built-in): lsearch wildlsearch nwildlsearch iplsearch dsearch\n");
  std::printf("Module path: %s\n", rt.config().main.get_string("module_path").c_str());
  const auto& modules = rt.modules().modules();
  if (modules.empty()) std::printf("Modules loaded: none\n");
  for (const auto& m : modules)
    std::printf("Module %s: version %s, ABI %u.%u, %s\n", m->name.c_str(), m->version.c_str(), m->abi_major,
                m->abi_minor, m->path.c_str());
  std::printf("Configuration file is %s\n", rt.config().file.c_str());
  return 0;
}

}  // namespace

int run(const std::vector<std::string>& argv, const std::map<Mode, ModeRunner>& more) {
  auto parsed = parse_command_line(argv);
  if (!parsed) return fail(parsed.error().message);
  const CommandLine& cl = *parsed;
  if (auto it = more.find(cl.mode); it != more.end()) return it->second(cl);

  switch (cl.mode) {
    case Mode::kVersion:
    case Mode::kExpand:
    case Mode::kPrintOptions:
      break;
    default:
      return fail(cl.mode_flag + ": not in this build yet");
  }

  auto rt = Runtime::load(cl);
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().message.c_str());
    return 1;
  }
  switch (cl.mode) {
    case Mode::kVersion: return run_version(**rt);
    case Mode::kExpand: return run_expand(**rt, cl);
    case Mode::kPrintOptions: return run_print_options(**rt, cl);
    default: return 1;
  }
}

}  // namespace tern::cli
