// prefetch.h — the one CPU instruction Swift cannot spell: a software prefetch.
//
// `Dataset.prefetch` asks the CPU to start loading the rows of the *next* batch while the
// current step computes, so that gathering them later reads caches instead of waiting on memory
// (the rows are scattered across 47 MB, so the hardware's own prefetcher cannot guess them).
// A prefetch is only a hint: it never faults, never changes a value, and may be dropped.
#ifndef NEURAL_LEVELS_PREFETCH_H
#define NEURAL_LEVELS_PREFETCH_H

/// Starts loading the cache line that holds `address` (for reading, into every cache level).
static inline void neural_levels_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
