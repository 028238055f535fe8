/* tcp: cleartext TCP as conn_ops (see tcp.h). */
#include "tcp.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp_handshake(struct conn *c)
{
	return 0;
}

static ssize_t tcp_recv(struct conn *c, char *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(conn_fd(c), buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t tcp_send(struct conn *c, const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(conn_fd(c), buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static bool tcp_pending(struct conn *c)
{
	return false;
}

static bool tcp_want_write(struct conn *c)
{
	return false;
}

static void tcp_release(struct conn *c)
{
}

const struct conn_ops tcp_conn_ops = {
	.name = "tcp",
	.handshake = tcp_handshake,
	.recv = tcp_recv,
	.send = tcp_send,
	.pending = tcp_pending,
	.want_write = tcp_want_write,
	.release = tcp_release,
};
