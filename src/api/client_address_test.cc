// X-Forwarded-For is believed only from trusted proxies, and only up to the first hop
// no trusted proxy vouches for.
#include "api/client_address.h"

#include <gtest/gtest.h>

namespace sightline::api {
namespace {

std::vector<IpNetwork> Nets(const std::string& text) {
  auto n = ParseNetworks(text);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : std::vector<IpNetwork>{};
}

TEST(ClientAddress, ParsesNetworksAndRefusesNonsense) {
  EXPECT_EQ(Nets("10.0.0.0/8, 192.168.1.7 ,fd00::/8").size(), 3u);
  EXPECT_TRUE(Nets("").empty());
  for (std::string bad : {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "example.com", "fd00::/129", "1.2.3.4/"}) {
    auto n = ParseNetworks(bad);
    EXPECT_FALSE(n.ok()) << bad;
  }
  auto n = Nets("10.1.0.0/16");
  EXPECT_TRUE(n[0].Contains(boost::asio::ip::make_address("10.1.255.3")));
  EXPECT_FALSE(n[0].Contains(boost::asio::ip::make_address("10.2.0.1")));
  EXPECT_FALSE(n[0].Contains(boost::asio::ip::make_address("::1")));
  EXPECT_TRUE(Nets("0.0.0.0/0")[0].Contains(boost::asio::ip::make_address("8.8.8.8")));
}

TEST(ClientAddress, BelievesForwardedForOnlyFromATrustedPeer) {
  const auto trusted = Nets("10.0.0.0/8");
  // No trust configured, or an untrusted peer: the peer, whatever the header says.
  EXPECT_EQ(ClientAddress("10.0.0.2", "203.0.113.5", {}), "10.0.0.2");
  EXPECT_EQ(ClientAddress("198.51.100.1", "203.0.113.5", trusted), "198.51.100.1");
  // A trusted peer: the rightmost hop that is not itself trusted.
  EXPECT_EQ(ClientAddress("10.0.0.2", "203.0.113.5", trusted), "203.0.113.5");
  EXPECT_EQ(ClientAddress("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.9.9.9", trusted), "203.0.113.5");
  EXPECT_EQ(ClientAddress("::ffff:10.0.0.2", "203.0.113.5", trusted), "203.0.113.5");
  // Garbage, or only proxies: the peer.
  EXPECT_EQ(ClientAddress("10.0.0.2", "203.0.113.5, not-an-ip", trusted), "10.0.0.2");
  EXPECT_EQ(ClientAddress("10.0.0.2", "10.1.1.1", trusted), "10.0.0.2");
  EXPECT_EQ(ClientAddress("10.0.0.2", "", trusted), "10.0.0.2");
  EXPECT_EQ(ClientAddress("unknown", "203.0.113.5", trusted), "unknown");
}

}  // namespace
}  // namespace sightline::api
