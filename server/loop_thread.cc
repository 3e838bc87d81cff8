#include "server/loop_thread.h"

namespace sluice::server {

LoopThread::~LoopThread() {
  join();
  if (initialised_) {
    // Run any close callbacks still pending, then release the loop.
    uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
  }
}

Status LoopThread::init() {
  int rc = uv_loop_init(&loop_);
  if (rc < 0) return Status::error(std::string("event loop: ") + uv_strerror(rc));
  rc = uv_async_init(&loop_, &wake_, &LoopThread::on_wake);
  if (rc < 0) return Status::error(std::string("event loop: ") + uv_strerror(rc));
  wake_.data = this;
  initialised_ = true;
  return Status::ok();
}

void LoopThread::start() {
  thread_ = std::thread([this]() noexcept { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void LoopThread::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    mailbox_.push_back(std::move(task));
  }
  uv_async_send(&wake_);
}

void LoopThread::close_mailbox() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  uv_async_send(&wake_);
}

void LoopThread::join() {
  if (thread_.joinable()) thread_.join();
}

void LoopThread::on_wake(uv_async_t* handle) {
  auto* self = static_cast<LoopThread*>(handle->data);
  std::vector<std::function<void()>> tasks;
  bool closing;
  {
    std::lock_guard lock(self->mutex_);
    tasks.swap(self->mailbox_);
    closing = self->closing_;
  }
  for (auto& task : tasks) task();
  if (closing && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&self->wake_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&self->wake_), nullptr);
  }
}

}  // namespace sluice::server
