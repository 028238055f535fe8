/* fedproxyctl: ask a running fedproxy through its control socket.
 *   fedproxyctl [-s SOCKET] status|connections|stats|reload
 * Prints the answer; exits 1 when the proxy reports a failure or cannot be
 * reached. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/fedproxy/control.sock"

static void usage(FILE *out)
{
	fprintf(out, "usage: fedproxyctl [-s SOCKET] status|connections|stats|reload\n"
		     "  -s SOCKET  the control socket ([control] socket in the config;\n"
		     "             default $FEDPROXY_SOCKET, else " DEFAULT_SOCKET ")\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fedproxyctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "fedproxyctl: cannot reach fedproxy at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Copy the answer to stdout; true when it reports a failure. */
static int relay_answer(int fd)
{
	char buf[8192];
	ssize_t n;
	int failed = 0;
	size_t total = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (total == 0 && (!strncmp(buf, "error", 5) || !strncmp(buf, "reload failed", 13)))
			failed = 1;
		total += (size_t)n;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	return failed || n < 0 || total == 0;
}

int main(int argc, char **argv)
{
	const char *path = getenv("FEDPROXY_SOCKET");
	char line[128];
	int opt, fd, r;

	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		if (opt == 's') {
			path = optarg;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (strlen(argv[optind]) + 2 > sizeof(line)) {
		usage(stderr);
		return 2;
	}
	fd = connect_to(path ? path : DEFAULT_SOCKET);
	if (fd < 0)
		return 1;
	snprintf(line, sizeof(line), "%s\n", argv[optind]);
	if (write(fd, line, strlen(line)) < 0) {
		perror("fedproxyctl: write");
		close(fd);
		return 1;
	}
	r = relay_answer(fd);
	close(fd);
	return r;
}
