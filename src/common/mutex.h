#pragma once

#include <mutex>
#include <shared_mutex>

// Thread-safety annotations: documentation under g++, checked by clang's -Wthread-safety.
#if defined(__clang__)
#define SALESPIPE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SALESPIPE_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) SALESPIPE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) SALESPIPE_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) SALESPIPE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) SALESPIPE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

namespace salespipe {

using Mutex = std::mutex;
using SharedMutex = std::shared_mutex;
using MutexLock = std::lock_guard<std::mutex>;

}  // namespace salespipe
