/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the http component: what http.c keeps to itself but the unit
 * tests look at. Nothing outside src/http and its tests includes this
 * file.
 */
#ifndef CERTDESK_HTTP_HTTP_INT_H
#define CERTDESK_HTTP_HTTP_INT_H

#include "http/http.h"

/*
 * The key a connection from ip (len 4 or 16 bytes, IPv4-mapped IPv6
 * already unmapped) counts under for struct http_conf.per_ip_limit, into
 * key: an IPv4 address itself (4 bytes), an IPv6 address by its /64 (the
 * first 8 bytes; one host or site gets the whole /64 and may connect from
 * any address in it). Returns the key's length, or 0 for another len.
 */
size_t http_conn_key(const uint8_t *ip, size_t len, uint8_t key[16]);

/* The libmicrohttpd connection of a request, for the post processor
 * (multipart.c); valid during the handler call. */
struct MHD_Connection;
struct MHD_Connection *http_req_conn(const struct http_req *r);

#endif
