/* helpers: what several unit tests share.
 *
 *  - Row checks: every table row carries the source line it was written on
 *    and a description; a failed check prints "FILE:ROWLINE: desc: what",
 *    counts the failure and goes on, so one run lists every bad row.
 *    rows_done() then fails the cmocka test if any row failed.
 *  - "{cN}" in a raw text: N copies of c, for long headers and bodies.
 *  - A throw-away PKI (test/certs/mkpki.sh) in a temporary directory, made
 *    once per test program, and configs whose text names it as "@PKI@".
 *  - A capture of stderr, where the code under test logs. */
#ifndef FEDPROXY_TEST_HELPERS_H
#define FEDPROXY_TEST_HELPERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proxy/config.h"

/* Rows are structs whose first two fields are `int line; const char *desc;`
 * (ROW(...) fills them). */
#define ROW(desc) __LINE__, (desc)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

bool row_check(const char *file, int line, const char *desc, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
bool row_int(const char *file, int line, const char *desc, const char *what, long long got,
	     long long want);
bool row_str(const char *file, int line, const char *desc, const char *what, const char *got,
	     const char *want);
/* Fail the running cmocka test when a row check failed since the last call. */
void rows_done(void);

#define CHECK_TRUE(r, cond) \
	row_check(__FILE__, (r)->line, (r)->desc, (cond), "%s is false", #cond)
#define CHECK_INT(r, got, want) \
	row_int(__FILE__, (r)->line, (r)->desc, #got, (long long)(got), (long long)(want))
#define CHECK_STR(r, got, want) row_str(__FILE__, (r)->line, (r)->desc, #got, (got), (want))

/* raw with every "{cN}" replaced by N copies of the character c; *len
 * gets the length. Free with free(). */
char *repeat_expand(const char *raw, size_t *len);

/* Make the PKI (once per process) and return its absolute directory. */
const char *pki_dir(void);
/* Remove the PKI directory, if one was made. */
void pki_remove(void);
/* text with every "@PKI@" replaced by pki_dir(). Free with free(). */
char *pki_expand(const char *text);
/* config_load_text(name, pki_expand(text)). */
struct config *config_load_pki(const char *name, const char *text);

/* Send stderr to a temporary file until capture_end(), which returns what
 * was written (free() it). */
void capture_begin(void);
char *capture_end(void);

/* A valid config: routing node "r1", member node "m1", a static route for
 * partner.example.test. Its values are asserted in test_config.c, and
 * test_route.c routes with it. */
#define TEST_CONFIG_VALID                                                      \
	"[proxy]\n"                                                            \
	"public_fqdn = fedproxy.example.test\n"                                \
	"route_secret = unit-secret\n"                                         \
	"[external]\n"                                                         \
	"listen = 127.0.0.1:5061\n"                                            \
	"certificate = @PKI@/fedproxy-chain.pem\n"                             \
	"key = @PKI@/fedproxy.key\n"                                           \
	"ca_bundle = @PKI@/ca.pem\n"                                           \
	"[internal]\n"                                                         \
	"listen = 127.0.0.1:5060\n"                                            \
	"advertise = 10.1.2.3:5066\n"                                          \
	"[node r1]\n"                                                          \
	"address = 127.0.0.1:5070\n"                                           \
	"role = routing\n"                                                     \
	"[node m1]\n"                                                          \
	"address = 127.0.0.2:5072\n"                                           \
	"role = member\n"                                                      \
	"[route partner.example.test]\n"                                       \
	"host = edge.partner.example.test\n"                                   \
	"port = 5062\n"                                                        \
	"address = 192.0.2.10\n"                                               \
	"[policy]\n"                                                           \
	"local_domains = example.test\n"

#endif
