#include "server/http/http_server.h"

#include <http_parser.h>

#include <strings.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "server/http/json_writer.h"

namespace sluice::server {

HttpResponse json_error_response(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = "{\"error\":";
  append_json_string(response.body, message);
  response.body += "}\n";
  return response;
}


struct HttpServer::Connection {
  uv_tcp_t handle{};
  HttpServer* owner = nullptr;
  uint64_t id = 0;
  http_parser parser{};
  HttpRequest request;
  std::string header_field;  // the header being read, lowercased
  bool header_value_pending = false;
  bool too_large = false;
  bool expects_continue = false;
  bool keep_alive = true;
  bool awaiting_response = false;
  bool closing = false;
  bool streaming = false;  // a chunked response in progress (start_stream)
  // Bytes received while a response was pending (a pipelined request).
  std::string pending_input;
};

namespace {

// Headers beyond this are a client bug or an attack.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

struct WriteRequest {
  uv_write_t write{};
  std::string bytes;
};

}  // namespace

const char* http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// http-parser's C callbacks, reaching the connection through parser.data.
struct HttpCallbacks {
  static HttpServer::Connection* of(http_parser* parser) {
    return static_cast<HttpServer::Connection*>(parser->data);
  }
  static int on_message_begin(http_parser* parser) {
    auto* c = of(parser);
    c->request = HttpRequest();
    c->request.id = c->id;
    c->header_field.clear();
    c->too_large = false;
    c->expects_continue = false;
    return 0;
  }
  static int on_url(http_parser* parser, const char* at, size_t length) {
    auto* c = of(parser);
    if (c->request.path.size() + length > kMaxHeaderBytes) return 1;
    c->request.path.append(at, length);
    return 0;
  }
  static int on_header_field(http_parser* parser, const char* at, size_t length) {
    auto* c = of(parser);
    if (c->header_value_pending) {
      c->header_field.clear();
      c->header_value_pending = false;
    }
    if (c->header_field.size() + length > kMaxHeaderBytes) return 1;
    for (size_t i = 0; i < length; ++i) c->header_field.push_back(ascii_lower(at[i]));
    return 0;
  }
  static int on_header_value(http_parser* parser, const char* at, size_t length) {
    auto* c = of(parser);
    c->header_value_pending = true;
    std::string* target = nullptr;
    if (c->header_field == "content-type") target = &c->request.content_type;
    if (c->header_field == "content-encoding") target = &c->request.content_encoding;
    if (c->header_field == "accept") target = &c->request.accept;
    if (c->header_field == "user-agent") target = &c->request.user_agent;
    if (c->header_field == "x-elastic-client-meta") target = &c->request.elastic_client_meta;
    if (c->header_field == "expect" && length == 12 && strncasecmp(at, "100-continue", 12) == 0) {
      c->expects_continue = true;
    }
    if (target != nullptr && target->size() + length <= kMaxHeaderBytes) target->append(at, length);
    return 0;
  }
  static int on_headers_complete(http_parser* parser) {
    auto* c = of(parser);
    if (parser->content_length != ULLONG_MAX &&
        parser->content_length > c->owner->options_.max_body_bytes) {
      c->too_large = true;
      return -1;  // http-parser: error out before reading the body
    }
    if (c->expects_continue) {
      // curl asks before sending large bodies; answering saves its 1 s wait.
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      auto* write = new WriteRequest();
      write->bytes = kContinue;
      write->write.data = write;
      uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
      if (uv_write(&write->write, reinterpret_cast<uv_stream_t*>(&c->handle), &buf, 1,
                   [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); }) < 0) {
        delete write;
      }
      c->expects_continue = false;
    }
    return 0;
  }
  static int on_body(http_parser* parser, const char* at, size_t length) {
    auto* c = of(parser);
    if (c->request.body.size() + length > c->owner->options_.max_body_bytes) {
      c->too_large = true;
      return 1;
    }
    c->request.body.append(at, length);
    return 0;
  }
  static int on_message_complete(http_parser* parser) {
    auto* c = of(parser);
    c->keep_alive = http_should_keep_alive(parser) != 0;
    c->request.method = http_method_str(static_cast<http_method>(parser->method));
    const size_t question = c->request.path.find('?');
    if (question != std::string::npos) {
      c->request.query = c->request.path.substr(question + 1);
      c->request.path.resize(question);
    }
    c->owner->handle_complete(c);
    // Stop parsing: the next request waits until this one is answered.
    http_parser_pause(parser, 1);
    return 0;
  }
  static const http_parser_settings& settings() {
    static const http_parser_settings kSettings = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_message_begin = on_message_begin;
      s.on_url = on_url;
      s.on_header_field = on_header_field;
      s.on_header_value = on_header_value;
      s.on_headers_complete = on_headers_complete;
      s.on_body = on_body;
      s.on_message_complete = on_message_complete;
      return s;
    }();
    return kSettings;
  }

  // Feeds bytes to the parser; returns false if the connection was closed.
  static bool feed(HttpServer::Connection* c, const char* data, size_t length) {
    size_t offset = 0;
    while (offset < length) {
      if (c->awaiting_response) {
        c->pending_input.append(data + offset, length - offset);
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->handle));
        return true;
      }
      const size_t parsed = http_parser_execute(&c->parser, &settings(), data + offset, length - offset);
      offset += parsed;
      const http_errno error = HTTP_PARSER_ERRNO(&c->parser);
      if (error == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        continue;
      }
      if (error != HPE_OK) {
        HttpResponse response;
        response.status = c->too_large ? 413 : 400;
        response.body = c->too_large ? "{\"error\":\"request body too large\"}\n"
                                     : std::string("{\"error\":\"malformed HTTP request: ") +
                                           http_errno_name(error) + "\"}\n";
        c->keep_alive = false;
        c->owner->send(c, std::move(response));
        return false;
      }
    }
    return true;
  }

  // One read buffer for every connection: libuv calls read right after
  // alloc on the loop thread, and the parser copies what it keeps.
  static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* c = static_cast<HttpServer::Connection*>(handle->data);
    buf->base = c->owner->read_buffer_.get();
    buf->len = kHttpReadBufferBytes;
  }
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* c = static_cast<HttpServer::Connection*>(stream->data);
    if (nread < 0) {
      c->owner->close_connection(c);
      return;
    }
    // A streaming client has nothing more to say; its bytes are ignored
    // and only its hang-up (above) matters.
    if (nread > 0 && !c->streaming) feed(c, buf->base, static_cast<size_t>(nread));
  }
};

HttpServer::HttpServer(LoopThread& loop, const config::HttpOptions& options, Handler handler)
    : loop_(loop),
      options_(options),
      handler_(std::move(handler)),
      read_buffer_(new char[kHttpReadBufferBytes]) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen(const config::ListenAddress& address) {
  struct sockaddr_storage addr {};
  int rc = uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc < 0) rc = uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&addr));
  if (rc < 0) return Status::error("http: address " + address.to_string() + " is not a numeric IP address");
  uv_tcp_init(loop_.loop(), &listener_);
  listener_.data = this;
  listening_ = true;
  rc = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 512, &HttpServer::on_connection);
  if (rc < 0) return Status::error("http " + address.to_string() + ": " + uv_strerror(rc));
  return Status::ok();
}

void HttpServer::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<HttpServer*>(server->data);
  if (status < 0) return;
  auto* c = new Connection();
  c->owner = self;
  c->id = self->next_id_++;
  uv_tcp_init(self->loop_.loop(), &c->handle);
  c->handle.data = c;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->handle)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
             [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
    return;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  self->connections_[c->id] = c;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), &HttpCallbacks::on_alloc,
                &HttpCallbacks::on_read);
}

void HttpServer::handle_complete(Connection* c) {
  c->awaiting_response = true;
  handler_(c->request);
}

void HttpServer::respond(uint64_t id, HttpResponse response) {
  loop_.post([this, id, response = std::move(response)]() mutable {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    send(it->second, std::move(response));
  });
}

void HttpServer::send(Connection* c, HttpResponse response) {
  if (c->closing) return;
  c->awaiting_response = false;
  auto* write = new WriteRequest();
  std::string& out = write->bytes;
  out.reserve(response.body.size() + 256);
  out += "HTTP/1.1 " + std::to_string(response.status) + " " + http_reason(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  if (!c->keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (c->request.method != "HEAD") out += response.body;  // HEAD: the length, no body
  uv_buf_t buf = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
  write->write.data = write;
  const bool keep_alive = c->keep_alive;
  int rc = uv_write(&write->write, reinterpret_cast<uv_stream_t*>(&c->handle), &buf, 1,
                    [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); });
  if (rc < 0) {
    delete write;
    close_connection(c);
    return;
  }
  if (!keep_alive) {
    close_connection(c);
    return;
  }
  // Continue with bytes that arrived while this response was pending.
  std::string pending;
  pending.swap(c->pending_input);
  if (!pending.empty() && !HttpCallbacks::feed(c, pending.data(), pending.size())) return;
  if (!c->awaiting_response && !c->closing) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), &HttpCallbacks::on_alloc,
                  &HttpCallbacks::on_read);
  }
}

void HttpServer::start_stream(uint64_t id, HttpResponse head) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection* c = it->second;
  if (c->closing) return;
  c->awaiting_response = false;
  c->streaming = true;
  auto* write = new WriteRequest();
  std::string& out = write->bytes;
  out += "HTTP/1.1 " + std::to_string(head.status) + " " + http_reason(head.status) + "\r\n";
  out += "Content-Type: " + head.content_type + "\r\n";
  out += "Transfer-Encoding: chunked\r\n";
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : head.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!head.body.empty()) {
    char size[24];
    out.append(size, static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", head.body.size())));
    out += head.body;
    out += "\r\n";
  }
  uv_buf_t buf = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
  write->write.data = write;
  int rc = uv_write(&write->write, reinterpret_cast<uv_stream_t*>(&c->handle), &buf, 1,
                    [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); });
  if (rc < 0) {
    delete write;
    close_connection(c);
    return;
  }
  // Reading again notices the client hanging up.
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), &HttpCallbacks::on_alloc, &HttpCallbacks::on_read);
}

HttpServer::StreamWrite HttpServer::stream_write(uint64_t id, std::string_view bytes, size_t max_queued) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->closing || !it->second->streaming) return StreamWrite::kGone;
  Connection* c = it->second;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->handle);
  if (uv_stream_get_write_queue_size(stream) > max_queued) return StreamWrite::kBackedUp;
  if (bytes.empty()) return StreamWrite::kSent;
  auto* write = new WriteRequest();
  char size[24];
  write->bytes.append(size, static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", bytes.size())));
  write->bytes.append(bytes);
  write->bytes += "\r\n";
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
  write->write.data = write;
  int rc = uv_write(&write->write, stream, &buf, 1,
                    [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); });
  if (rc < 0) {
    delete write;
    close_connection(c);
    return StreamWrite::kGone;
  }
  return StreamWrite::kSent;
}

void HttpServer::end_stream(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->streaming) return;
  Connection* c = it->second;
  auto* write = new WriteRequest();
  write->bytes = "0\r\n\r\n";
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
  write->write.data = write;
  if (uv_write(&write->write, reinterpret_cast<uv_stream_t*>(&c->handle), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); }) < 0) {
    delete write;
  }
  close_connection(c);
}

void HttpServer::close_connection(Connection* c) {
  if (c->closing) return;
  c->closing = true;
  connections_.erase(c->id);
  if (c->streaming && on_stream_closed_) on_stream_closed_(c->id);
  if (on_closed_) on_closed_(c->id);
  // uv_close runs after queued writes are cancelled or done, so the
  // response written just before is still flushed for a graceful close.
  uv_shutdown_t* shutdown = new uv_shutdown_t();
  shutdown->data = c;
  int rc = uv_shutdown(shutdown, reinterpret_cast<uv_stream_t*>(&c->handle), [](uv_shutdown_t* req, int) {
    auto* conn = static_cast<Connection*>(req->data);
    delete req;
    uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle),
             [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
  });
  if (rc < 0) {
    delete shutdown;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
             [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
  }
}

void HttpServer::stop_listening() {
  if (listening_) {
    listening_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
}

void HttpServer::close_all() {
  stop_listening();
  std::vector<Connection*> open;
  for (auto& [id, c] : connections_) open.push_back(c);
  for (Connection* c : open) close_connection(c);
}

}  // namespace sluice::server
