/* tcp: cleartext TCP as conn_ops (inside links configured as tcp). */
#ifndef FEDPROXY_TCP_H
#define FEDPROXY_TCP_H

#include "conn.h"

extern const struct conn_ops tcp_conn_ops;

#endif
