// ParseHttpUrl: the URLs the bench tools accept and the errors they name.
#include "http_conn.h"

#include <gtest/gtest.h>

namespace sightline::bench {
namespace {

TEST(ParseHttpUrl, AcceptsHostPortPath) {
  struct Case {
    const char* url;
    const char* host;
    const char* port;
    const char* target;
  } cases[] = {
      {"http://127.0.0.1:4318/v1/traces", "127.0.0.1", "4318", "/v1/traces"},
      {"http://localhost", "localhost", "80", "/"},
      {"http://[::1]:4318/v1/traces", "::1", "4318", "/v1/traces"},
      {"http://[::1]", "::1", "80", "/"},
      {"http://example.com:8080", "example.com", "8080", "/"},
  };
  for (const auto& c : cases) {
    HttpUrl u;
    std::string error;
    ASSERT_TRUE(ParseHttpUrl(c.url, &u, &error)) << c.url << ": " << error;
    EXPECT_EQ(u.host, c.host) << c.url;
    EXPECT_EQ(u.port, c.port) << c.url;
    EXPECT_EQ(u.target, c.target) << c.url;
  }
}

TEST(ParseHttpUrl, RejectsWithAReason) {
  struct Case {
    const char* url;
    const char* says;
  } cases[] = {
      {"https://127.0.0.1:4318", "http://"},
      {"127.0.0.1:4318", "http://"},
      {"http://:4318/x", "no host"},
      {"http://host:port/x", "bad port"},
      {"http://host:123456", "bad port"},
      {"http://[::1/x", "unclosed"},
  };
  for (const auto& c : cases) {
    HttpUrl u;
    std::string error;
    EXPECT_FALSE(ParseHttpUrl(c.url, &u, &error)) << c.url;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.url << " -> " << error;
  }
}

}  // namespace
}  // namespace sightline::bench
