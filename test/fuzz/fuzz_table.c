/* fuzz_table: hostile mapping tables through the presence table parser
 * and validator. */
#include <stdint.h>

#include "fuzz_config.h"
#include "presence/presence.h"

static void ignore(void *arg, unsigned line, const char *msg)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_config(); /* silences logging */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pres_table_free(pres_table_parse("fuzz", (const char *)data, size, ignore, NULL));
	return 0;
}
