/* log.h: one-line log records on stderr, "ISO-time pid event details", written with a single
 * write() so lines from the master and its children never interleave mid-line. */
#ifndef DIGITD_LOG_H
#define DIGITD_LOG_H

/* Logs "2026-01-01T00:00:00.123Z pid=N event details". */
void dg_log(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
