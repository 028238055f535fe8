/* fuzz_config: a valid config snapshot for the fuzz targets, with a PKI made
 * once in a temporary directory; logging silenced. */
#ifndef FEDPROXY_FUZZ_CONFIG_H
#define FEDPROXY_FUZZ_CONFIG_H

#include "proxy/config.h"

/* The snapshot (made on the first call), or exit(1). */
struct config *fuzz_config(void);
/* The directory holding the PKI files. */
const char *fuzz_pki_dir(void);

#endif
