/* log.h - logging to stderr and syslog, OpenSMTPD style.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. log_fatal()
 * means the environment is wrong and exits 1; log_panic() means a bug and
 * aborts. Safe to call from any thread.
 */
#ifndef MAILROOM_LOG_H
#define MAILROOM_LOG_H

#include <stdarg.h>

/* log_init - set the program name; syslog when use_syslog, stderr when to_stderr */
void log_init(const char *ident, int use_syslog, int to_stderr);
/* log_set_debug - enable or disable debug lines */
void log_set_debug(int on);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
