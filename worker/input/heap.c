/* heap.c: glibc's malloc tuned for the input path's per-request buffers (see input.h).
 *
 * Every request allocates a canvas (w * h * 4 bytes: 313 KB at 280x280) and the ink map
 * (w * h), and frees both. glibc serves blocks over M_MMAP_THRESHOLD (128 KiB, raised only
 * by frees of mapped blocks) with mmap and returns the heap top above M_TRIM_THRESHOLD to the
 * kernel, so both buffers came back as fresh zero pages on every request, tens of page
 * faults each (bench/RESULTS.md has the figures). Keep blocks up to a canvas at the default
 * limits on the heap, and up to 4 MiB of free heap (many canvases of the page's size) in the
 * process; a rare larger canvas is still given back. */
#include <stdlib.h> /* defines __GLIBC__ where it applies */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "input.h"

void dg_input_heap_setup(void)
{
#ifdef __GLIBC__
    struct dg_input_limits lim;
    dg_input_default_limits(&lim);
    size_t block_max = (size_t)lim.max_width * lim.max_height * 4 + ((size_t)1 << 20);
    mallopt(M_MMAP_THRESHOLD, (int)block_max); /* <= glibc's 32 MiB maximum */
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
#endif
}
