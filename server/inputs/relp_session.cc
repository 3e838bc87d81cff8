#include "server/inputs/relp_session.h"

#include <algorithm>
#include <charconv>

#include "server/base/assert.h"

namespace sluice::server {
namespace {

// NUMBER = 1*9DIGIT in the spec; librelp's parser rejects a tenth digit.
constexpr size_t kMaxNumberDigits = 9;
// COMMAND = 1*32ALPHA.
constexpr size_t kMaxCommandLetters = 32;
// TXNR latches at 999,999,999 and continues at 1.
constexpr uint64_t kMaxTxnr = 999'999'999;
// A frame buffer kept from an oversize message is released rather than held
// for the life of an idle connection.
constexpr size_t kRetainedBufferBytes = 64 * 1024;

#ifdef SLUICE_VERSION
constexpr std::string_view kSoftwareOffer = "sluice," SLUICE_VERSION;
#else
constexpr std::string_view kSoftwareOffer = "sluice";
#endif

// librelp's texts, so that its clients' logs read the same for both servers.
constexpr std::string_view kCommandDisabled = "500 command disabled";
constexpr std::string_view kAlreadyOpen = "500 protocol error: connection already open";
constexpr std::string_view kSyslogNotOffered = "500 required command not supported by client";
constexpr std::string_view kBadVersionOffer = "500 invalid relp_version offer";
constexpr std::string_view kOfferTooLong = "500 offers too long";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string number_text(uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  return std::string(digits, result.ptr);
}

// Calls on_part for each `separator`-delimited part of `text`.
template <typename OnPart>
void split(std::string_view text, char separator, OnPart&& on_part) {
  while (true) {
    const size_t end = text.find(separator);
    on_part(text.substr(0, end));
    if (end == std::string_view::npos) return;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

RelpSession::RelpSession(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {
  SLUICE_ASSERT(max_message_bytes > 0, "max_message_bytes is validated as positive");
}

std::string_view RelpSession::software_offer() { return kSoftwareOffer; }

Status RelpSession::fail(std::string message) {
  state_ = State::kFailed;
  last_error_ = message;
  return Status::error(std::move(message));
}

Status RelpSession::feed_bytes(std::string_view bytes, const MessageSink& sink) {
  if (state_ == State::kFailed) return Status::error("session already failed: " + last_error_);
  size_t pos = 0;
  // Where this frame's kept DATA starts in `bytes` when all of it arrived in
  // this call, so that it is delivered without a copy; npos otherwise (then it
  // is in data_).
  size_t kept_in_bytes = std::string_view::npos;
  while (pos < bytes.size()) {
    const char c = bytes[pos];
    switch (state_) {
      case State::kTxnr:
        ++pos;
        if (is_digit(c)) {
          if (field_digits_ == kMaxNumberDigits) return fail("TXNR longer than 9 digits");
          txnr_ = txnr_ * 10 + static_cast<uint64_t>(c - '0');
          ++field_digits_;
        } else if (c == ' ' && field_digits_ > 0) {
          if (Status status = on_txnr_end(); !status) return status;
        } else {
          return fail(field_digits_ == 0 ? "frame does not start with a TXNR" : "TXNR not followed by SP");
        }
        break;

      case State::kCommand:
        ++pos;
        if (is_alpha(c)) {
          if (command_.size() == kMaxCommandLetters) return fail("command longer than 32 letters");
          command_.push_back(c);
        } else if (c == ' ' && !command_.empty()) {
          if (Status status = on_command_end(); !status) return status;
        } else {
          return fail(command_.empty() ? "missing command" : "command not followed by SP");
        }
        break;

      case State::kDataLen:
        ++pos;
        if (is_digit(c)) {
          if (field_digits_ == kMaxNumberDigits) return fail("DATALEN longer than 9 digits");
          data_len_ = data_len_ * 10 + static_cast<uint64_t>(c - '0');
          ++field_digits_;
        } else if (field_digits_ == 0) {
          return fail("DATALEN is not a number");
        } else if (data_len_ == 0) {
          // No data, so no SP: the trailer follows the digits.
          if (c != '\n') return fail("DATALEN 0 not followed by the LF trailer");
          if (Status status = on_frame_end(std::string_view(), sink); !status) return status;
        } else if (c == ' ') {
          if (Status status = on_datalen_end(); !status) return status;
        } else {
          return fail("DATALEN not followed by SP");
        }
        break;

      case State::kData: {
        const size_t take =
            static_cast<size_t>(std::min<uint64_t>(data_len_ - data_seen_, bytes.size() - pos));
        if (data_seen_ < data_keep_) {
          const size_t keep = static_cast<size_t>(std::min<uint64_t>(data_keep_ - data_seen_, take));
          if (data_seen_ == 0 && keep == data_keep_) {
            kept_in_bytes = pos;
          } else {
            data_.append(bytes.substr(pos, keep));
          }
        }
        pos += take;
        data_seen_ += take;
        if (data_seen_ == data_len_) state_ = State::kTrailer;
        break;
      }

      case State::kTrailer: {
        ++pos;
        if (c != '\n') return fail("frame data not followed by the LF trailer");
        const std::string_view data = kept_in_bytes != std::string_view::npos
                                          ? bytes.substr(kept_in_bytes, static_cast<size_t>(data_keep_))
                                          : std::string_view(data_);
        kept_in_bytes = std::string_view::npos;
        if (Status status = on_frame_end(data, sink); !status) return status;
        break;
      }

      case State::kFailed:
        SLUICE_ASSERT(false, "a failed session returns before parsing");
        break;
    }
  }
  // The frame continues in a later call: keep what it needs of this one.
  if (kept_in_bytes != std::string_view::npos) {
    data_.assign(bytes.substr(kept_in_bytes, static_cast<size_t>(data_keep_)));
  }
  return Status::ok();
}

Status RelpSession::on_txnr_end() {
  if (close_received_) return fail("frame after close");
  if (txnr_ == 0) return fail("TXNR 0 is reserved for server hints");
  if (txnr_ != expected_txnr_) {
    return fail("TXNR " + number_text(txnr_) + " out of sequence, expected " + number_text(expected_txnr_));
  }
  expected_txnr_ = txnr_ == kMaxTxnr ? 1 : txnr_ + 1;
  state_ = State::kCommand;
  return Status::ok();
}

Status RelpSession::on_command_end() {
  if (command_ == "syslog") {
    if (!open_) {
      queue_response(txnr_, kCommandDisabled);
      return fail("syslog before open");
    }
    command_kind_ = Command::kSyslog;
  } else if (command_ == "open") {
    if (open_) {
      queue_response(txnr_, kAlreadyOpen);
      return fail("duplicate open");
    }
    command_kind_ = Command::kOpen;
  } else if (command_ == "close") {
    command_kind_ = Command::kClose;
  } else {
    // command_ holds at most 32 letters, so it is safe to quote.
    return fail("unknown command '" + command_ + "'");
  }
  state_ = State::kDataLen;
  field_digits_ = 0;
  return Status::ok();
}

Status RelpSession::on_datalen_end() {
  switch (command_kind_) {
    case Command::kSyslog:
      data_keep_ = std::min<uint64_t>(data_len_, max_message_bytes_);
      break;
    case Command::kOpen:
      if (data_len_ > kMaxOpenDataBytes) {
        queue_response(txnr_, kOfferTooLong);
        return fail("open offers longer than " + number_text(kMaxOpenDataBytes) + " bytes");
      }
      data_keep_ = data_len_;
      break;
    case Command::kClose:
      data_keep_ = 0;  // "close" carries no data we use
      break;
  }
  data_seen_ = 0;
  state_ = State::kData;
  return Status::ok();
}

Status RelpSession::on_frame_end(std::string_view data, const MessageSink& sink) {
  Status status = Status::ok();
  switch (command_kind_) {
    case Command::kSyslog:
      ++unanswered_messages_;
      sink.call(sink.context, txnr_, data, data_len_ > data_keep_);
      break;
    case Command::kOpen:
      status = handle_open(data);
      break;
    case Command::kClose:
      close_received_ = true;
      close_txnr_ = txnr_;
      if (unanswered_messages_ == 0) {
        queue_response(close_txnr_, "200 OK");
        close_requested_ = true;
      }
      break;
  }
  if (!status) return status;

  txnr_ = 0;
  field_digits_ = 0;
  command_.clear();
  data_len_ = 0;
  data_seen_ = 0;
  data_keep_ = 0;
  if (data_.capacity() > kRetainedBufferBytes) {
    std::string().swap(data_);
  } else {
    data_.clear();
  }
  state_ = State::kTxnr;
  return Status::ok();
}

// Offers: lines "NAME[=VALUE{,VALUE}]" separated by LF (offers.c). We need
// relp_version to be a number and "syslog" among the commands, as imrelp does
// (it marks syslog required); other offers, relp_software included, are
// ignored, as librelp ignores them.
Status RelpSession::handle_open(std::string_view offers) {
  bool version_ok = false;
  bool syslog_offered = false;
  split(offers, '\n', [&](std::string_view line) {
    const size_t equals = line.find('=');
    const std::string_view name = line.substr(0, equals);
    const std::string_view values = equals == std::string_view::npos ? std::string_view() : line.substr(equals + 1);
    if (name == "relp_version") {
      const std::string_view version = values.substr(0, values.find(','));
      version_ok = !version.empty() && version.size() <= kMaxNumberDigits &&
                   std::all_of(version.begin(), version.end(), is_digit);
    } else if (name == "commands") {
      split(values, ',', [&](std::string_view command) { syslog_offered |= command == "syslog"; });
    }
  });
  if (!version_ok) {
    queue_response(txnr_, kBadVersionOffer);
    return fail("open without a numeric relp_version offer");
  }
  if (!syslog_offered) {
    queue_response(txnr_, kSyslogNotOffered);
    return fail("open does not offer the syslog command");
  }
  // relp_version=0 whatever the client offers: it is the version librelp
  // implements, and librelp's clients refuse a server offering more.
  std::string answer = "200 OK\nrelp_version=0\nrelp_software=";
  answer += kSoftwareOffer;
  answer += "\ncommands=syslog";
  queue_response(txnr_, answer);
  open_ = true;
  return Status::ok();
}

void RelpSession::queue_response(uint64_t txnr, std::string_view data) {
  char digits[24];
  output_.append(digits, std::to_chars(digits, digits + sizeof(digits), txnr).ptr);
  output_ += " rsp ";
  output_.append(digits, std::to_chars(digits, digits + sizeof(digits), data.size()).ptr);
  if (!data.empty()) {
    output_ += ' ';
    output_ += data;
  }
  output_ += '\n';
}

void RelpSession::answer_message() {
  SLUICE_ASSERT(unanswered_messages_ > 0, "only delivered messages are acknowledged or rejected");
  --unanswered_messages_;
  if (close_received_ && !close_requested_ && unanswered_messages_ == 0) {
    queue_response(close_txnr_, "200 OK");
    close_requested_ = true;
  }
}

void RelpSession::acknowledge(uint64_t txnr) {
  queue_response(txnr, "200 OK");
  answer_message();
}

void RelpSession::reject(uint64_t txnr, std::string_view reason) {
  std::string text = "500 ";
  const std::string_view human = reason.substr(0, kMaxReasonBytes);
  if (human.empty()) {
    text += "error";
  } else {
    for (const char c : human) text += (c == '\n' || c == '\r') ? ' ' : c;
  }
  queue_response(txnr, text);
  answer_message();
}

void RelpSession::server_close() { output_ += "0 serverclose 0\n"; }

std::string RelpSession::take_output() {
  std::string output = std::move(output_);
  output_.clear();
  return output;
}

}  // namespace sluice::server
