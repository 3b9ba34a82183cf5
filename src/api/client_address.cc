#include "api/client_address.h"

#include <charconv>
#include <string>
#include <vector>

namespace sightline::api {
namespace {


bool ParseAddress(std::string_view text, boost::asio::ip::address* out) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return false;
  // ::ffff:10.0.0.1 is 10.0.0.1 (a dual-stack socket's view of an IPv4 peer).
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  *out = a;
  return true;
}

std::vector<unsigned char> Bytes(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

}  // namespace

bool IpNetwork::Contains(const boost::asio::ip::address& a) const {
  if (a.is_v4() != address.is_v4()) return false;
  const std::vector<unsigned char> net = Bytes(address), got = Bytes(a);
  int bits = prefix;
  for (size_t i = 0; i < net.size() && bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((net[i] & mask) != (got[i] & mask)) return false;
  }
  return true;
}

Result<std::vector<IpNetwork>> ParseNetworks(std::string_view text) {
  std::vector<IpNetwork> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = TrimOws(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const std::string shown(item.substr(0, 64));
    IpNetwork n;
    size_t slash = item.find('/');
    if (!ParseAddress(item.substr(0, slash), &n.address))
      return Status::InvalidArgument("\"" + shown + "\" is not an IP address or CIDR network");
    const int max = n.address.is_v4() ? 32 : 128;
    n.prefix = max;
    if (slash != std::string_view::npos) {
      std::string_view bits = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n.prefix);
      if (ec != std::errc() || p != bits.data() + bits.size() || n.prefix < 0 || n.prefix > max)
        return Status::InvalidArgument("\"" + shown + "\": the prefix length must be 0.." + std::to_string(max));
    }
    out.push_back(n);
  }
  return out;
}

std::string ClientAddress(const std::string& peer, std::string_view forwarded_for,
                          const std::vector<IpNetwork>& trusted) {
  if (trusted.empty() || forwarded_for.empty()) return peer;
  auto trusted_addr = [&trusted](const boost::asio::ip::address& a) {
    for (const auto& n : trusted)
      if (n.Contains(a)) return true;
    return false;
  };
  boost::asio::ip::address a;
  if (!ParseAddress(peer, &a) || !trusted_addr(a)) return peer;
  // Right to left: the first hop that is not a trusted proxy is the client.
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view item = TrimOws(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (!ParseAddress(item, &a)) return peer;  // garbage in the chain: trust none of it
    if (!trusted_addr(a)) return a.to_string();
  }
  return peer;  // every hop a trusted proxy
}

Status ParseHostPort(const std::string& text, std::string* host, int* port) {
  auto bad = [&] { return Status::InvalidArgument("\"" + text + "\" is not HOST:PORT (e.g. 127.0.0.1:4318)"); };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  std::string h = text.substr(0, colon);
  std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";  // ":4318" listens on every interface, as Go servers do
  if (h == "localhost") h = "127.0.0.1";
  int n = -1;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || n < 0 || n > 65535) return bad();
  boost::system::error_code aec;
  boost::asio::ip::make_address(h, aec);
  if (aec) return Status::InvalidArgument("\"" + text + "\": host must be an IP address or localhost");
  *host = h;
  *port = n;
  return Status::OK();
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace sightline::api
