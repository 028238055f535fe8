/* fedproxy: SIP federation edge proxy. Command line (DESIGN section 4):
 *   fedproxy [-c FILE] [-t] [-s] [-V]
 * Without -c, the compiled-in copy of etc/fedproxy.conf is used. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <ev.h>
#include <gnutls/gnutls.h>
#include <libxml/xmlversion.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sofia_features.h>

#include "config.h"
#include "log.h"
#include "server.h"

extern const char default_config_text[];

static void usage(FILE *out)
{
	fprintf(out, "usage: fedproxy [-c FILE] [-t] [-s] [-V]\n"
		     "  -c FILE  configuration file (default: the built-in etc/fedproxy.conf)\n"
		     "  -t       check the configuration and the files it names, then exit\n"
		     "  -s       also log to syslog\n"
		     "  -V       print the version and the linked library versions\n");
}

static void print_version(void)
{
	printf("fedproxy %s\n", FEDPROXY_VERSION);
	printf("sofia-sip %s, gnutls %s, libev %d.%d, libxml2 %s\n", SOFIA_SIP_VERSION,
	       gnutls_check_version(NULL), ev_version_major(), ev_version_minor(),
	       LIBXML_DOTTED_VERSION);
}

static int check_only(const char *file)
{
	struct config *cfg = file ? config_load_file(file)
				  : config_load_text("(built-in fedproxy.conf)", default_config_text);

	if (!cfg)
		return EXIT_FAILURE;
	printf("%s: configuration OK\n", cfg->file);
	config_unref(cfg);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	int opt, test = 0;
	struct ev_loop *loop;

	while ((opt = getopt(argc, argv, "c:tsVh")) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 's':
			log_use_syslog(true);
			break;
		case 'V':
			print_version();
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Typed access to every header Sofia knows, not just the base set. */
	sip_update_default_mclass(sip_extend_mclass(NULL));
	if (test)
		return check_only(file);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (server_start(loop, &(struct server_source){ file, default_config_text }) < 0)
		return EXIT_FAILURE;
	ev_run(loop, 0);
	log_info("stopped");
	return EXIT_SUCCESS;
}
