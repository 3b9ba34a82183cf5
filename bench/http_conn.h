// A minimal HTTP/1.1 keep-alive connection for the benchmark tools (load generator,
// crash verifier, query bench), on Boost.Beast. Each call is a blocking exchange with a
// timeout (the connect runs on a private io_context with a deadline; each read and
// write times out in the kernel), so a hung server cannot hang the caller. Unlike the CLI's client it never retries by itself: the load generator must
// see every failure to count it and to decide what was acknowledged.
//
// Thread-safety: none; one thread uses a connection at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sightline::bench {

// "http://host:port/path" split up. Only plain http.
struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";  // path (and query), always starting with '/'
};
// False, with *error naming the problem, for anything but http://host[:port][/path].
bool ParseHttpUrl(std::string_view text, HttpUrl* out, std::string* error);

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, if any
};

class HttpConn {
 public:
  HttpConn(std::string host, std::string port, std::chrono::milliseconds timeout);
  ~HttpConn();
  HttpConn(const HttpConn&) = delete;
  HttpConn& operator=(const HttpConn&) = delete;

  // One exchange. method is "GET" or "POST". Connects first when not connected.
  // False on a transport failure (cannot connect, reset, timeout), with *error set;
  // the connection is then closed and the next call reconnects.
  bool Exchange(std::string_view method, std::string_view target, std::string_view content_type,
                std::string_view content_encoding, std::string_view body, HttpReply* reply,
                std::string* error);
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sightline::bench
