// LoopThread: one libuv loop on its own thread, reachable from other threads
// through a mailbox.
//
// Other threads post() tasks; the loop drains the whole mailbox in one async
// callback, because uv_async_send calls coalesce. No uv_* function other than
// uv_async_send is ever called off the loop thread.
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/base/status.h"

namespace sluice::server {

class LoopThread {
 public:
  LoopThread() = default;
  ~LoopThread();
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // Thread: the owner's, before start().
  Status init();
  uv_loop_t* loop() { return &loop_; }

  // Runs the loop on a new thread until no handle is left open.
  void start();

  // Thread-safe. Runs `task` on the loop thread. Tasks posted after the
  // mailbox has closed are dropped.
  void post(std::function<void()> task);

  // Thread-safe. Closes the mailbox once the tasks before it have run;
  // the loop then ends when its other handles are closed.
  void close_mailbox();

  // Waits for the loop thread to finish.
  void join();

 private:
  static void on_wake(uv_async_t* handle);

  uv_loop_t loop_{};
  uv_async_t wake_{};
  bool initialised_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::function<void()>> mailbox_;
  bool closing_ = false;
};

}  // namespace sluice::server
