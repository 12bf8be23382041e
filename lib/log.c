/* log.c - logging to stderr and syslog.
 *
 * These machines and many containers run no syslog daemon, so a daemon in
 * the foreground also writes every line to stderr. One line per call; the
 * line is formatted once into a bounded buffer and written with one write
 * so that lines from several threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "mailroom";
static int log_syslog;
static int log_stderr = 1;
static int log_debug_on;

/* log_init - choose where lines go */
void log_init(const char *ident, int use_syslog, int to_stderr)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_stderr = to_stderr;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_debug - switch debug lines on or off */
void log_set_debug(int on)
{
	log_debug_on = on;
}

/* log_emit - format one line and send it to every sink */
static void log_emit(int prio, const char *tag, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (errnum != 0)
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(errnum));

	if (log_syslog)
		syslog(prio, "%s%s", tag, line);
	if (log_stderr) {
		char out[2300];
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		int m = snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld]: %s%s\n",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				 tm.tm_sec, ts.tv_nsec / 1000000L, log_ident, (long)getpid(), tag, line);
		if (m > 0) {
			size_t len = (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1;
			/* A lost log line is not worth failing for; nothing else to do. */
			if (write(STDERR_FILENO, out, len) < 0)
				(void)0;
		}
	}
}

#define LOG_BODY(prio, tag, errnum)                                                                \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, tag, errnum, fmt, ap);                                              \
		va_end(ap);                                                                        \
	} while (0)

void log_debug(const char *fmt, ...)
{
	if (log_debug_on)
		LOG_BODY(LOG_DEBUG, "debug: ", 0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, "", 0);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning: ", 0);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	LOG_BODY(LOG_WARNING, "warning: ", saved);
}

void log_fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "fatal: ", 0);
	exit(1);
}

void log_fatal(const char *fmt, ...)
{
	int saved = errno;
	LOG_BODY(LOG_CRIT, "fatal: ", saved);
	exit(1);
}

void log_panic(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "panic: ", 0);
	abort();
}
