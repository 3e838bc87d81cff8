// HttpServer: HTTP/1.1 on a libuv loop, parsed with Debian's http-parser.
//
// One request at a time per connection (no pipelining): while a response is
// pending the connection stops reading, so a slow handler applies
// backpressure to its client only. Handlers answer at once or later, from
// any thread, through respond() with the request's id.
// Thread: the HTTP loop only, except respond(), which is thread-safe.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/options.h"
#include "server/loop_thread.h"

namespace sluice::server {

struct HttpRequest {
  uint64_t id = 0;  // names the connection for respond()
  std::string method;
  std::string path;   // percent-decoding is left to the handler
  std::string query;  // after '?', raw
  std::string content_type;
  std::string content_encoding;
  std::string accept;                // Accept, User-Agent and x-elastic-client-meta:
  std::string user_agent;            // GET / is the viewer for browsers, the
  std::string elastic_client_meta;   // Elasticsearch root for ES clients
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A response with `status` and the body {"error": message}, the shape of
// every error the API answers.
HttpResponse json_error_response(int status, std::string_view message);

class HttpServer {
 public:
  // Called on the loop for every complete request; must lead to exactly one
  // respond(request.id, ...) call, now or later.
  using Handler = std::function<void(HttpRequest&)>;

  HttpServer(LoopThread& loop, const config::HttpOptions& options, Handler handler);
  ~HttpServer();

  Status listen(const config::ListenAddress& address);

  // Thread-safe. Sends the response for request `id`; dropped if the client
  // has gone.
  void respond(uint64_t id, HttpResponse response);

  // Streaming responses (Server-Sent Events), loop thread only. Instead of
  // respond(), a handler may start a chunked response with `head` (its body,
  // if any, is the first chunk), write chunks while the client stays, and
  // end it. A stream whose client is slower than the writes backs up:
  // stream_write refuses more once `max_queued` bytes wait in the socket.
  enum class StreamWrite { kSent, kBackedUp, kGone };
  void start_stream(uint64_t id, HttpResponse head);
  StreamWrite stream_write(uint64_t id, std::string_view bytes, size_t max_queued);
  void end_stream(uint64_t id);
  // Called on the loop when a stream's connection closes (client gone,
  // end_stream, close_all).
  void set_stream_closed_listener(std::function<void(uint64_t)> listener) { on_stream_closed_ = std::move(listener); }
  // Called with the id of every connection that closes (the client hung up,
  // an error, or after its last response), on the loop thread.
  void set_closed_listener(std::function<void(uint64_t)> listener) { on_closed_ = std::move(listener); }

  // Stops accepting connections; open ones finish their current exchange.
  void stop_listening();
  // Closes every connection.
  void close_all();

 private:
  struct Connection;
  static void on_connection(uv_stream_t* server, int status);
  void send(Connection* connection, HttpResponse response);
  void close_connection(Connection* connection);
  void handle_complete(Connection* connection);
  friend struct HttpCallbacks;

  LoopThread& loop_;
  const config::HttpOptions options_;
  Handler handler_;
  uv_tcp_t listener_{};
  bool listening_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Connection*> connections_;
  std::unique_ptr<char[]> read_buffer_;
  std::function<void(uint64_t)> on_stream_closed_;
  std::function<void(uint64_t)> on_closed_;
};

// Size of one socket read: amortises the callback over large bodies.
constexpr size_t kHttpReadBufferBytes = 64 * 1024;

// Reason phrase of a status code ("OK", "Not Found"...).
const char* http_reason(int status);

}  // namespace sluice::server
