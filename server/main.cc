#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "server/cli.h"

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // glibc raises its mmap threshold each time a large mmapped chunk is
  // freed, after which block-sized buffers (MiBs, made and freed per block)
  // come from the heaps and fragment them: measured, peak RSS 297 MiB
  // instead of 220 on a 3M-event ingest. A fixed threshold keeps them
  // mmapped and returned on free. Fewer arenas than glibc's 8 per core: the
  // server has a handful of busy threads.
  mallopt(M_MMAP_THRESHOLD, 512 * 1024);
  mallopt(M_ARENA_MAX, 4);
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  return sluice::server::run_cli(args);
}
