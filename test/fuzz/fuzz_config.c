/* fuzz_config: the fuzz targets' config snapshot (see fuzz_config.h). */
#include "fuzz_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proxy/log.h"

static char pki[64];

const char *fuzz_pki_dir(void)
{
	char cmd[512];

	if (pki[0])
		return pki;
	snprintf(pki, sizeof(pki), "/tmp/fedproxy-fuzz-pki-%d", (int)getuid());
	snprintf(cmd, sizeof(cmd), "bash %s %s >/dev/null", MKPKI_SH, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz: cannot make the PKI with %s\n", MKPKI_SH);
		exit(1);
	}
	return pki;
}

struct config *fuzz_config(void)
{
	static struct config *cfg;
	char text[4096];

	if (cfg)
		return cfg;
	log_set_level(LOG_LVL_SILENT);
	snprintf(text, sizeof(text),
		 "[proxy]\npublic_fqdn = fedproxy.example.test\nroute_secret = fuzz\n"
		 "[external]\nlisten = 127.0.0.1:5061\ncertificate = %1$s/fedproxy-chain.pem\n"
		 "key = %1$s/fedproxy.key\nca_bundle = %1$s/ca.pem\n"
		 "[internal]\nlisten = 127.0.0.1:5060\n"
		 "[node routing]\naddress = 127.0.0.1:5070\nrole = routing\n"
		 "[node b]\naddress = 127.0.0.1:5071\npublic_port = 55061\n"
		 "[policy]\nlocal_domains = example.test\n"
		 "[domain *.partner.example.test]\npeer_names = edge.partner.example.test\n"
		 "[route partner.example.test]\nhost = edge.partner.example.test\naddress = 127.0.0.1\n",
		 fuzz_pki_dir());
	cfg = config_load_text("fuzz", text);
	if (!cfg) {
		fprintf(stderr, "fuzz: the base config does not load\n");
		exit(1);
	}
	return cfg;
}
