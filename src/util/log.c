/* SPDX-License-Identifier: Apache-2.0 */
/* Log lines with level and source tag to stderr; one write() per line. */
#include "util/log.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_level_max = LOG_LVL_INFO;

static const char *const lvl_names[] = {"error", "warning", "info", "debug"};
static const char *const src_names[] = {
	"main", "store", "signer", "ca", "http", "audit",
	"validation", "ra", "acme", "portal", "backoffice", "mail"};

int
log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, lvl_names[i]) == 0)
			return i;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	if (strcmp(s, "err") == 0)
		return LOG_LVL_ERR;
	return -1;
}

void
log_set_level(int level)
{
	if (level >= LOG_LVL_ERR && level <= LOG_LVL_DEBUG)
		log_level_max = level;
}

void
log_msg(int level, int src, const char *fmt, ...)
{
	char line[2048];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	int n, m;

	if (level < 0 || level > LOG_LVL_DEBUG)
		level = LOG_LVL_ERR;
	if (src < 0 || src >= LOG_SRC_MAX_)
		src = LOG_MAIN;
	gmtime_r(&now, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s [%s] ",
	    lvl_names[level], src_names[src]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	/* no control characters from untrusted text reach the terminal */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			line[i] = '?';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_openssl(int src, const char *what)
{
	unsigned long e;
	char buf[256];
	int any = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_err(src, "%s: openssl: %s", what, buf);
		any = 1;
	}
	if (!any)
		log_err(src, "%s: openssl: failed", what);
}
