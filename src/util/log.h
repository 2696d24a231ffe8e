/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one logging facade. Every line goes to stderr as
 *   2026-11-27T10:00:00Z error [ca] order 12: sign: signer refused
 * with a level and a source tag. The level is checked before any formatting.
 * Secrets are never passed to these functions.
 */
#ifndef CERTDESK_UTIL_LOG_H
#define CERTDESK_UTIL_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum log_src {
	LOG_MAIN = 0, LOG_STORE, LOG_SIGNER, LOG_CA, LOG_HTTP, LOG_AUDIT,
	LOG_VAL, LOG_RA, LOG_ACME, LOG_PORTAL, LOG_BO, LOG_MAIL, LOG_SRC_MAX_
};

extern int log_level_max;	/* lines above this level are dropped */

/* Parses "error", "warning", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *s);
void log_set_level(int level);

void log_msg(int level, int src, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Drains the OpenSSL error queue into the log at error level. */
void log_openssl(int src, const char *what);

#define log_at_(lvl, src, ...)                                                 \
	do {                                                                   \
		if ((lvl) <= log_level_max)                                    \
			log_msg((lvl), (src), __VA_ARGS__);                    \
	} while (0)
#define log_err(src, ...) log_at_(LOG_LVL_ERR, src, __VA_ARGS__)
#define log_warn(src, ...) log_at_(LOG_LVL_WARN, src, __VA_ARGS__)
#define log_info(src, ...) log_at_(LOG_LVL_INFO, src, __VA_ARGS__)
#define log_debug(src, ...) log_at_(LOG_LVL_DEBUG, src, __VA_ARGS__)

#endif
