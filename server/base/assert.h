// SLUICE_ASSERT: checks for bugs, active in every build. Never used for
// conditions that user input can trigger; those return a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SLUICE_ASSERT(cond, why)                                                  \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "sluice: assertion failed at %s:%d: %s (%s)\n", __FILE__, \
                   __LINE__, #cond, why);                                         \
      std::abort();                                                               \
    }                                                                             \
  } while (0)
