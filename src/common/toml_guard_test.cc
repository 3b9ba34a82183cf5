// The guard every TOML reader runs before toml++: the inputs toml++ 3.x does not
// refuse cleanly are refused with the line, valid TOML passes.
#include "common/toml_guard.h"

#include <gtest/gtest.h>

namespace sightline {
namespace {

TEST(TomlGuard, RefusesWhatTomlppMishandlesNamingTheLine) {
  struct Case {
    std::string text;
    int line;
    std::string what;
  } cases[] = {
      {"a = 1\nb = \"x\x01y\"\n", 2, "control character 1"},
      {"a = 1\n\x7f = 2\n", 2, "control character 127"},
      {"a = 1\n\n[*x]\n", 3, "table header"},
      {"[[ *x]]\n", 1, "table header"},
      {"a = 1\n\xc2\xa0" "b = 2\n", 2, "non-ASCII"},
      {"a = \"\"\"x\\\n\xe3\x80\x80y\"\"\"\n", 2, "line-ending backslash"},
  };
  for (const auto& c : cases) {
    Status st = CheckTomlText(c.text, "f.toml");
    ASSERT_FALSE(st.ok()) << c.what;
    EXPECT_EQ(st.message().rfind("f.toml:" + std::to_string(c.line) + ": not valid TOML", 0), 0u) << st.message();
    EXPECT_NE(st.message().find(c.what), std::string::npos) << st.message();
  }
}

TEST(TomlGuard, LetsValidTomlThrough) {
  const char* ok[] = {
      "a = 1\n",
      "# caf\xc3\xa9 in a comment\nname = \"caf\xc3\xa9\"\n",
      "[projects.\"caf\xc3\xa9\"]\nx = 'y'\n",
      "arr = [\n  [1, 2],\n  [3],\n]\n[t]\n[[u]]\n",
      "s = \"\"\"\nmulti\nline \\\n  continued\n\"\"\"\n",
      "\ta\t=\t1\r\n",
  };
  for (const char* t : ok) EXPECT_TRUE(CheckTomlText(t, "f.toml").ok()) << t;
}

TEST(TomlGuard, ErrorsQuoteNothing) {
  EXPECT_EQ(UnquotedTomlError("unexpected character 'sk-secret' in \"value\""),
            "unexpected character '...' in \"...\"");
}

}  // namespace
}  // namespace sightline
