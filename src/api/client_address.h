// The client's address behind a trusted reverse proxy (docs/auth.md, "Behind a
// proxy"). The login rate limit and its audit records key on the client's address;
// behind a proxy every request comes from the proxy's, so one client's failures would
// lock out everyone. With --trusted-proxy CIDR[,CIDR...] the server believes
// X-Forwarded-For, but only on requests whose socket peer is in one of those networks,
// and takes the rightmost address in it that is not itself a trusted proxy (the
// nearest hop no trusted proxy vouches for: addresses further left were written by
// the client and prove nothing).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/status.h"

namespace sightline::api {

struct IpNetwork {
  boost::asio::ip::address address;
  int prefix = 0;  // bits
  bool Contains(const boost::asio::ip::address& a) const;
};

// "10.0.0.0/8", "192.168.1.7" (a /32), "fd00::/8", comma-separated; InvalidArgument
// naming the bad entry.
Result<std::vector<IpNetwork>> ParseNetworks(std::string_view text);

// text without its leading and trailing spaces and tabs (HTTP's optional whitespace
// around a header value or a list item).
std::string_view TrimOws(std::string_view text);

// The client's address: peer itself unless peer is in trusted and forwarded_for
// (X-Forwarded-For, possibly several headers joined with ',') names someone.
std::string ClientAddress(const std::string& peer, std::string_view forwarded_for,
                          const std::vector<IpNetwork>& trusted);

// "127.0.0.1:4318" / "[::1]:4318" / ":4318" -> address, port. InvalidArgument
// naming the text when it is not host:port. (Here rather than in http_server.h so
// that the configuration parser, and its fuzzer, need no HTTP server.)
Status ParseHostPort(const std::string& text, std::string* host, int* port);

}  // namespace sightline::api
