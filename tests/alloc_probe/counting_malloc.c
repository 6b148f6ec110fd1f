/* Counts heap allocations while `g_counting` is set, by interposing the
   allocation functions of this executable and every library it loads, and
   forwarding to glibc. Each counted allocation is attributed by its call
   stack: to oneDNN when the first frame outside the C/C++/OpenMP runtimes
   lies in libdnnl, else to us (the executable, which links the engine
   statically). Not built into sanitizer builds (they interpose too). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stddef.h>
#include <string.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

long g_allocations = 0;      /* all counted allocations */
long g_bytes = 0;
long g_largest = 0;
long g_our_allocations = 0;  /* those whose caller is not oneDNN */
long g_our_largest = 0;
int g_counting = 0;

/* The interposers live in their own section so that stack frames inside them
   are recognised and skipped; the linker defines the bounds. */
#define INTERPOSER __attribute__((section("alloc_interposer"), noinline))
extern const char __start_alloc_interposer[], __stop_alloc_interposer[];
static __thread int t_inside = 0; /* backtrace() and dladdr() may allocate */

static void Max(long* slot, long n) {
  long seen = __atomic_load_n(slot, __ATOMIC_RELAXED);
  while (n > seen && !__atomic_compare_exchange_n(slot, &seen, n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

static int FromOneDnn(void) {
  void* frames[24];
  const int depth = backtrace(frames, 24);
  for (int i = 1; i < depth; ++i) {
    const char* pc = (const char*)frames[i];
    if (pc >= __start_alloc_interposer && pc < __stop_alloc_interposer) continue;
    Dl_info info;
    if (!dladdr(frames[i], &info) || info.dli_fname == NULL) continue;
    const char* file = info.dli_fname;
    if (strstr(file, "libdnnl")) return 1;
    if (strstr(file, "libstdc++") || strstr(file, "libc.so") || strstr(file, "libgcc") || strstr(file, "libgomp"))
      continue;
    return 0; /* the executable or another library: ours */
  }
  return 0;
}

static INTERPOSER void Note(size_t n) {
  if (!g_counting || t_inside) return;
  t_inside = 1;
  const int from_onednn = FromOneDnn();
  t_inside = 0;
  __atomic_add_fetch(&g_allocations, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_bytes, (long)n, __ATOMIC_RELAXED);
  Max(&g_largest, (long)n);
  if (!from_onednn) {
    __atomic_add_fetch(&g_our_allocations, 1, __ATOMIC_RELAXED);
    Max(&g_our_largest, (long)n);
  }
}

/* backtrace() loads libgcc_s on its first call, which allocates: do it now. */
__attribute__((constructor)) static void WarmUpBacktrace(void) {
  void* frame[1];
  backtrace(frame, 1);
}

INTERPOSER void* malloc(size_t n) { Note(n); return __libc_malloc(n); }
INTERPOSER void* calloc(size_t a, size_t b) { Note(a * b); return __libc_calloc(a, b); }
INTERPOSER void* realloc(void* p, size_t n) { Note(n); return __libc_realloc(p, n); }
INTERPOSER void* aligned_alloc(size_t a, size_t n) { Note(n); return __libc_memalign(a, n); }
INTERPOSER void* memalign(size_t a, size_t n) { Note(n); return __libc_memalign(a, n); }
INTERPOSER int posix_memalign(void** p, size_t a, size_t n) {
  Note(n);
  *p = __libc_memalign(a, n);
  return *p ? 0 : 12;
}
