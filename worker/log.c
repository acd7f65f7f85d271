/* log.c: see log.h. Async-signal unsafe: call from normal context only (the master's
 * handlers only set flags, so all logging happens in its main loop). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void dg_log(const char *event, const char *fmt, ...)
{
    char line[1024];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(line + n, sizeof line - n, ".%03ldZ pid=%ld %s ", (long)(tv.tv_usec / 1000),
                     (long)getpid(), event);
    if (k > 0 && (size_t)k < sizeof line - n) {
        n += (size_t)k;
        va_list ap;
        va_start(ap, fmt);
        k = vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
        n = (k < 0) ? n : (n + (size_t)k < sizeof line - 1 ? n + (size_t)k : sizeof line - 2);
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* nowhere to report a failed log write */
}
