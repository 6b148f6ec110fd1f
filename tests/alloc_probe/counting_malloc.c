/* Counts heap allocations while `g_counting` is set, by interposing the
   allocation functions of this executable and every library it loads, and
   forwarding to glibc. Not built into sanitizer builds (they interpose too). */
#include <stddef.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

long g_allocations = 0;
long g_bytes = 0;
long g_largest = 0;
int g_counting = 0;

static void Note(size_t n) {
  if (!g_counting) return;
  __atomic_add_fetch(&g_allocations, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_bytes, (long)n, __ATOMIC_RELAXED);
  long largest = __atomic_load_n(&g_largest, __ATOMIC_RELAXED);
  while ((long)n > largest && !__atomic_compare_exchange_n(&g_largest, &largest, (long)n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

void* malloc(size_t n) { Note(n); return __libc_malloc(n); }
void* calloc(size_t a, size_t b) { Note(a * b); return __libc_calloc(a, b); }
void* realloc(void* p, size_t n) { Note(n); return __libc_realloc(p, n); }
void* aligned_alloc(size_t a, size_t n) { Note(n); return __libc_memalign(a, n); }
void* memalign(size_t a, size_t n) { Note(n); return __libc_memalign(a, n); }
int posix_memalign(void** p, size_t a, size_t n) {
  Note(n);
  *p = __libc_memalign(a, n);
  return *p ? 0 : 12;
}
